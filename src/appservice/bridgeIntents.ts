import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { BridgeError, errorMessage } from "../errors";
import { Outbox, type OutboxMessage, type OutboxRow } from "../store/outbox";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { IntentProvider } from "./matrixIntents";
import type { SpaceManager } from "./spaces";

const log = moduleLogger("appservice/intents");

/**
 * Durable intents: homeserver work that follows from an event (filing a new DM in the person's
 * space) but must not run inside the event's transaction. The handler writes an outbox row of a
 * `mab.intent.*` type in its transaction; after commit the outbox worker runs it here, in the
 * room's order, retried like a send (backoff on errors, parked with a reason when it cannot work).
 * Each intent is idempotent: a crash after it ran but before its row was marked done only runs it
 * again.
 */
export const INTENT_PREFIX = "mab.intent.";

const FILE_DM = `${INTENT_PREFIX}file_dm`;

export function isIntent(type: string): boolean {
  return type.startsWith(INTENT_PREFIX);
}

/** File the DM `roomId` between `agent` and `userId` in that person's Agents space. */
export function fileDmIntent(agent: ResolvedAgent, userId: string, roomId: string): OutboxMessage {
  return { roomId, sender: agent.userId, type: FILE_DM, content: { user_id: userId } };
}

export class BridgeIntents {
  constructor(
    private readonly knex: Knex,
    private readonly intents: IntentProvider,
    private readonly spaces: SpaceManager,
    private readonly domain: string,
  ) {}

  /** Runs an intent row; the result stands as the row's "event id". */
  run = async (row: OutboxRow): Promise<string> => {
    switch (row.type) {
      case FILE_DM:
        await this.fileDm(row.roomId, row.sender, String(row.content.user_id));
        return `intent:${row.id}`;
      default:
        throw new BridgeError("UNKNOWN_INTENT", `Unknown bridge intent ${row.type}`);
    }
  };

  /**
   * The space (created once, see SpaceManager) gets its m.space.child through the outbox's state
   * path, as the bot that owns it; the DM gets its m.space.parent from the agent when it may set
   * state there (not required: the child link alone groups it).
   */
  private async fileDm(roomId: string, agentUserId: string, userId: string): Promise<void> {
    const spaceId = await this.spaces.ensurePersonalSpace(userId);
    const via = [this.domain];
    await this.knex.transaction(async (trx) => {
      await new Outbox(this.knex).enqueue(trx, {
        roomId: spaceId,
        sender: this.intents.botUserId,
        type: "m.space.child",
        stateKey: roomId,
        content: { via, suggested: true },
      });
    });
    try {
      await this.intents
        .intent(agentUserId)
        .sendStateEvent(roomId, "m.space.parent", spaceId, { via, canonical: true });
    } catch (err) {
      log.debug({ roomId, err: errorMessage(err) }, "Could not set m.space.parent");
    }
  }
}
