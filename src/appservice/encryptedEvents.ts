import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import type { MatrixEvent } from "../agents/types";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { CryptoManager } from "../crypto/cryptoManager";
import type { AgentHost } from "./agentHost";
import type { DirectMessages } from "./directMessages";

const log = moduleLogger("appservice/encrypted");

/** What prepare found for an m.room.encrypted event. */
export type EncryptedPrepared =
  { decrypted: MatrixEvent; inner: unknown } | { undecryptable: string; agentId?: string };

/**
 * Encrypted room events, in front of the pipeline's usual steps: `prepare` decrypts (waiting for
 * the room key if it has not arrived) and then prepares the clear event as any other; `handle`
 * runs the clear event through the same handler, so agents see exactly what a plaintext room
 * gives them. An event that cannot be read is answered: the sender is asked to send it again.
 */
export class EncryptedEvents {
  constructor(
    private readonly deps: {
      crypto: () => CryptoManager | undefined;
      host: AgentHost;
      dms: DirectMessages;
      isJoined(roomId: string, userId: string): Promise<boolean>;
    },
  ) {}

  /** The crypto manager, when encryption is on and the homeserver delivers its feeds. */
  get active(): CryptoManager | undefined {
    const crypto = this.deps.crypto();
    return crypto?.active ? crypto : undefined;
  }

  async prepare(
    event: MatrixEvent,
    prepareClear: (e: MatrixEvent) => Promise<unknown>,
  ): Promise<EncryptedPrepared> {
    const crypto = this.active!;
    crypto.rooms.note(event.room_id);
    const agents = await this.agentsFor(event.room_id);
    const outcome = await crypto.decrypt(
      event,
      agents.map((a) => a.userId),
    );
    if ("failed" in outcome) {
      log.warn(
        { eventId: event.event_id, roomId: event.room_id, reason: outcome.failed },
        "Could not decrypt",
      );
      return { undecryptable: outcome.failed, agentId: agents[0]?.id };
    }
    return { decrypted: outcome.event, inner: await prepareClear(outcome.event) };
  }

  /** An event we could not read: its room's agent says so (encrypted, like every reply there). */
  async undecryptable(event: MatrixEvent, trx: Knex.Transaction, reason: string, agentId?: string) {
    const agent = agentId ? this.deps.host.byId(agentId) : undefined;
    if (!agent) return;
    await this.deps.host.reply(
      trx,
      agent,
      event,
      `I could not read your encrypted message (${reason}). Please send it again.`,
    );
  }

  /** The DM's agent first, then the other agents in the room (outside any transaction). */
  private async agentsFor(roomId: string): Promise<ResolvedAgent[]> {
    const dmAgentId = await this.deps.dms.agentFor(roomId);
    const out: ResolvedAgent[] = [];
    const dmAgent = dmAgentId ? this.deps.host.byId(dmAgentId) : undefined;
    if (dmAgent) out.push(dmAgent);
    for (const agent of this.deps.host.agents) {
      if (agent !== dmAgent && (await this.deps.isJoined(roomId, agent.userId))) out.push(agent);
    }
    return out;
  }
}
