import type { Knex } from "knex";
import { RoomStore } from "../store/roomStore";
import { Outbox } from "../store/outbox";
import { inTransaction, NeedsHomeserver } from "../store/transactionScope";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { IntentProvider } from "./matrixIntents";
import type { EventEffects } from "./eventBatch";
import { ROOM_KEYS } from "./spaces";
import { fileDmIntent } from "./bridgeIntents";
import { LruMap } from "./lruMap";

/**
 * DMs between humans and agents. A DM is known by its room id (to route every message in it
 * to its agent) and by (agent, human) to reuse it when the agent writes first.
 *
 * Nothing here calls the homeserver inside a transaction: recording a DM writes its row and a
 * durable intent to file it in the person's space (run by the outbox after commit); creating one
 * inside a transaction asks for the transaction to be re-run after the room exists.
 */
/** Rooms remembered as not being DMs (see learn); only an optimisation, so bounded. */
const MAX_NOT_DIRECT = 10_000;
/** Rooms looked up in one learn() query (the unknown rooms of one push are far fewer). */
const LEARN_CHUNK = 200;

export class DirectMessages {
  private readonly agentByRoom = new Map<string, string>();
  private readonly notDirect = new LruMap<string, true>(MAX_NOT_DIRECT);
  private readonly creating = new Map<string, Promise<string>>();

  constructor(
    private readonly intents: IntentProvider,
    private readonly knex: Knex,
    /** Told of every DM room once it is committed (routing learns it is a DM). */
    private readonly onDirect: (roomId: string) => void = () => undefined,
  ) {}

  /** The agent id of the DM in this room, if the room is one. */
  async agentFor(roomId: string, db: Knex = this.knex): Promise<string | undefined> {
    const cached = this.agentByRoom.get(roomId);
    if (cached) return cached;
    const row = await new RoomStore(db).byRoomId(roomId);
    if (row?.kind !== "dm") return undefined;
    const agentId = agentOfKey(row.key);
    if (!inTransaction()) this.remember(roomId, agentId);
    return agentId;
  }

  /** The agent id of the DM in this room when this process already knows the room is one. */
  knownAgentFor(roomId: string): string | undefined {
    return this.agentByRoom.get(roomId);
  }

  /**
   * At start-up: every DM in the store is known, so the first command in each after a restart is
   * handled in its claim like the later ones (and routing knows the room is a DM).
   */
  async loadAll(): Promise<number> {
    const rows = await new RoomStore(this.knex).byKind("dm");
    for (const row of rows) this.remember(row.roomId, agentOfKey(row.key));
    return rows.length;
  }

  /**
   * Looks up, in one query outside any transaction, which of `roomIds` this process does not know
   * yet are DMs (recorded by another process sharing the database, or written while it ran), so
   * `knownAgentFor` can answer for them. Rooms found not to be DMs are remembered as such (bounded),
   * so group rooms cost no query per push. Only committed rows are read.
   */
  async learn(roomIds: Iterable<string>): Promise<void> {
    const unknown = [...new Set(roomIds)].filter(
      (id) => !this.agentByRoom.has(id) && this.notDirect.get(id) === undefined,
    );
    for (let i = 0; i < unknown.length; i += LEARN_CHUNK) {
      const chunk = unknown.slice(i, i + LEARN_CHUNK);
      const found = new Map(
        (await new RoomStore(this.knex).byRoomIds(chunk)).map((r) => [r.roomId, r] as const),
      );
      for (const roomId of chunk) {
        const row = found.get(roomId);
        if (row?.kind === "dm") this.remember(roomId, agentOfKey(row.key));
        else this.notDirect.set(roomId, true);
      }
    }
  }

  /**
   * Called when a human invited an agent with is_direct: the DM's row and the intent to file it
   * in the human's personal space, in the caller's transaction; caches learn it after commit.
   */
  async record(
    agent: ResolvedAgent,
    userId: string,
    roomId: string,
    db: Knex.Transaction,
    effects: Pick<EventEffects, "afterCommit">,
  ): Promise<void> {
    await new RoomStore(db).put(ROOM_KEYS.dm(agent.id, userId), roomId, "dm", userId);
    await new Outbox(this.knex).enqueue(db, fileDmIntent(agent, userId, roomId));
    effects.afterCommit(() => this.remember(roomId, agent.id));
  }

  /**
   * The DM room between an agent and a human, created by the agent if there is none yet.
   * The agent creates it and sends the is_direct invite itself, so Element files it as a
   * DM with that agent (Element records m.direct with the inviter). Inside a transaction (a
   * reminder firing), a missing DM rolls the transaction back, is created outside it, and the
   * work runs again.
   */
  async open(agent: ResolvedAgent, userId: string, db: Knex = this.knex): Promise<string> {
    const existing = await new RoomStore(db).get(ROOM_KEYS.dm(agent.id, userId));
    if (existing) return existing.roomId;
    if (inTransaction()) {
      throw new NeedsHomeserver(`a DM between ${agent.userId} and ${userId}`, () =>
        this.create(agent, userId),
      );
    }
    return this.create(agent, userId);
  }

  private create(agent: ResolvedAgent, userId: string): Promise<string> {
    const key = ROOM_KEYS.dm(agent.id, userId);
    let pending = this.creating.get(key);
    if (!pending) {
      pending = (async () => {
        const stored = await new RoomStore(this.knex).get(key);
        if (stored) return stored.roomId;
        const { room_id: roomId } = await this.intents.intent(agent.userId).createRoom({
          createAsClient: true,
          options: {
            is_direct: true,
            invite: [userId],
            preset: "trusted_private_chat",
            visibility: "private",
          },
        });
        await this.knex.transaction(async (trx) => {
          await new RoomStore(trx).put(key, roomId, "dm", userId);
          await new Outbox(this.knex).enqueue(trx, fileDmIntent(agent, userId, roomId));
        });
        this.remember(roomId, agent.id);
        return roomId;
      })().finally(() => this.creating.delete(key));
      this.creating.set(key, pending);
    }
    return pending;
  }

  private remember(roomId: string, agentId: string): void {
    this.notDirect.delete(roomId);
    this.agentByRoom.set(roomId, agentId);
    this.onDirect(roomId);
  }
}

/** The agent id in a DM's key (`dm:<agent>:<user>`, ROOM_KEYS.dm). */
function agentOfKey(key: string): string {
  return key.split(":")[1];
}
