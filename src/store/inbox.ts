import type { Knex } from "knex";
import { BridgeError } from "../errors";
import { moduleLogger } from "../logging/logger";
import { affectedRows, storableText, type Queryable } from "./database";
import { claimEvents, type ClaimOptions, type ClaimResult } from "./inboxClaim";
import { ago } from "./sqlDialect";

export type { ClaimOptions, ClaimResult } from "./inboxClaim";

const log = moduleLogger("store/inbox");

export type InboundStatus = "claimed" | "handled" | "failed";

/** The fields of a Matrix event the inbox indexes; the whole object is stored as the payload. */
export interface InboundEvent {
  event_id: string;
  room_id?: string;
  type?: string;
  sender?: string;
  [key: string]: unknown;
}

export interface StoredEvent {
  seq: number;
  eventId: string;
  roomId: string | null;
  type: string | null;
  sender: string | null;
  payload: Record<string, unknown>;
  status: InboundStatus;
  error: string | null;
  receivedAt: Date;
  handledAt: Date | null;
}

interface EventRow {
  seq: string | number;
  event_id: string;
  room_id: string | null;
  event_type: string | null;
  sender: string | null;
  payload: Record<string, unknown> | string;
  status: InboundStatus;
  error: string | null;
  received_at: Date | string;
  handled_at: Date | string | null;
}

/** Rows per DELETE when pruning, so a large backlog never holds long locks. */
const PRUNE_BATCH = 5000;
const MAX_ERROR_LENGTH = 4000;

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    roomId: row.room_id,
    type: row.event_type,
    sender: row.sender,
    payload: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
    status: row.status,
    error: row.error,
    receivedAt: new Date(row.received_at),
    handledAt: row.handled_at === null ? null : new Date(row.handled_at),
  };
}

/**
 * Exactly-once intake of inbound events. `claim` records event ids atomically; only the caller
 * that claimed an id processes it, and marks it handled (ideally in the transaction that
 * applies its effects). After a crash, `unhandled()` lists what was claimed but not finished.
 */
export class Inbox {
  constructor(private readonly knex: Knex) {}

  /**
   * Claims events by id and returns the ids that were new, in input order. Replays, ids already
   * claimed by a concurrent caller and duplicates within `events` are left out. All chunks (of up to
   * 1000 events, each a single INSERT … ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
   * commit in one transaction: a batch is claimed entirely or not at all.
   */
  async claim(events: InboundEvent[]): Promise<string[]> {
    return (await this.claimBatch(events)).toHandle;
  }

  /**
   * `claim`, with inert events recorded as handled in the same statements and an optional hook in
   * the same transaction. Event ids are stored exactly as given: one the database cannot hold
   * (U+0000, a lone surrogate) is refused, never altered (the HTTP layer rejects such events first).
   */
  async claimBatch(events: InboundEvent[], opts: ClaimOptions = {}): Promise<ClaimResult> {
    return claimEvents(this.knex, events, opts);
  }

  /**
   * Takes a batch of claimed events for handling in `trx`, in one statement: those still
   * `claimed` are marked handled (and so locked for the rest of `trx`; their effects commit with
   * the mark or not at all) and returned. A second handler waits for `trx` on the row lock, then
   * finds them handled. With `onlyIfFirstInRoom`, nothing is taken while the room has claimed
   * events outside the batch that arrived before its first one (another process's, or stranded): the caller takes those first.
   */
  async takeForHandling(
    trx: Knex.Transaction,
    eventIds: readonly string[],
    onlyIfFirstInRoom?: { roomId: string },
  ): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const ids = eventIds as string[];
    let query = trx("inbound_events").whereIn("event_id", ids).andWhere("status", "claimed");
    if (onlyIfFirstInRoom) {
      query = query.whereNotExists(
        trx("inbound_events as earlier")
          .select("earlier.event_id")
          .where("earlier.status", "claimed")
          .andWhere("earlier.room_id", storableText(onlyIfFirstInRoom.roomId))
          .whereNotIn("earlier.event_id", ids)
          .andWhere("earlier.seq", "<", trx("inbound_events").select("seq").where("event_id", ids[0])),
      );
    }
    const rows = (await query
      .update({ status: "handled", error: null, handled_at: trx.fn.now() })
      .returning("event_id")) as { event_id: string }[];
    return new Set(rows.map((r) => r.event_id));
  }

  /** Gives events taken by `takeForHandling` back (still claimed), e.g. when their handler needs the homeserver first. */
  async untake(trx: Queryable, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await trx("inbound_events")
      .whereIn("event_id", eventIds as string[])
      .update({ status: "claimed", handled_at: null });
  }

  /** Those of `roomIds` that have claimed (not yet handled) events. */
  async roomsWithClaims(roomIds: readonly string[]): Promise<string[]> {
    if (roomIds.length === 0) return [];
    const rows = (await this.knex("inbound_events")
      .distinct("room_id")
      .where({ status: "claimed" })
      .whereIn("room_id", roomIds.map(storableText))) as { room_id: string }[];
    return rows.map((r) => r.room_id);
  }

  /** Marks a claimed event as handled. Pass the transaction that applied the event's effects. */
  async markHandled(trxOrKnex: Queryable, eventId: string): Promise<boolean> {
    const n = await trxOrKnex("inbound_events")
      .where({ event_id: storableText(eventId) })
      .update({ status: "handled", error: null, handled_at: trxOrKnex.fn.now() });
    return affectedRows(n) > 0;
  }

  /** Marks an event as failed for good (it will not be replayed); `error` is kept for operators. */
  async markFailed(trxOrKnex: Queryable, eventId: string, error: string): Promise<boolean> {
    const n = await trxOrKnex("inbound_events")
      .where({ event_id: storableText(eventId) })
      .update({
        status: "failed",
        error: storableText(error).slice(0, MAX_ERROR_LENGTH),
        handled_at: trxOrKnex.fn.now(),
      });
    return affectedRows(n) > 0;
  }

  /** Claimed but not yet handled or failed events, oldest claim first (after `afterSeq`, if given). */
  async unhandled(limit = 500, afterSeq = 0): Promise<StoredEvent[]> {
    const rows = (await this.knex("inbound_events")
      .where({ status: "claimed" })
      .andWhere("seq", ">", afterSeq)
      .orderBy("seq")
      .limit(limit)) as EventRow[];
    return rows.map(toStoredEvent);
  }

  /**
   * Claimed events of `roomId` that arrived before event `eventId` and are still unhandled: another process
   * is handling them, or a crash stranded them. Handling them first keeps a room's order.
   */
  async unhandledBefore(roomId: string, eventId: string, limit = 100): Promise<StoredEvent[]> {
    const rows = (await this.knex("inbound_events")
      .where({ status: "claimed", room_id: storableText(roomId) })
      .andWhere(
        "seq",
        "<",
        this.knex("inbound_events")
          .select("seq")
          .where({ event_id: storableText(eventId) }),
      )
      .orderBy("seq")
      .limit(limit)) as EventRow[];
    return rows.map(toStoredEvent);
  }

  /** Ids of claimed events received more than `olderThanMs` ago (by the database clock), oldest first. */
  async staleClaims(olderThanMs: number, limit = 100): Promise<string[]> {
    const rows = (await this.knex("inbound_events")
      .select("event_id")
      .where({ status: "claimed" })
      .andWhere("received_at", "<", ago(this.knex, olderThanMs))
      .orderBy("seq")
      .limit(limit)) as { event_id: string }[];
    return rows.map((r) => r.event_id);
  }

  /**
   * Locks an event's row for the rest of `trx` and returns its status and seq (null if unknown).
   * Whoever handles an event takes this lock first and proceeds only while the status is still
   * "claimed": a second handler (another process, or a recovery pass) waits for the first one's
   * commit, then sees "handled" and does nothing.
   */
  async lockForHandling(
    trx: Knex.Transaction,
    eventId: string,
  ): Promise<{ status: InboundStatus; seq: number } | null> {
    const row = (await trx("inbound_events")
      .select("status", "seq")
      .where({ event_id: storableText(eventId) })
      .forUpdate()
      .first()) as { status: InboundStatus; seq: string | number } | undefined;
    return row ? { status: row.status, seq: Number(row.seq) } : null;
  }

  async get(eventId: string): Promise<StoredEvent | null> {
    const row = (await this.knex("inbound_events")
      .where({ event_id: storableText(eventId) })
      .first()) as EventRow | undefined;
    return row ? toStoredEvent(row) : null;
  }

  /**
   * Deletes handled and failed events received more than `olderThanDays` days ago (by the
   * database clock). Claimed events are never pruned. Returns the number of rows deleted.
   */
  async prune(olderThanDays: number): Promise<number> {
    if (!Number.isFinite(olderThanDays) || olderThanDays < 0) {
      throw new BridgeError("INVALID_ARGUMENT", `prune: olderThanDays must be >= 0, got ${olderThanDays}`);
    }
    let deleted = 0;
    for (;;) {
      const result = await this.knex.raw<{ rowCount?: number }>(
        `DELETE FROM inbound_events WHERE event_id IN (
           SELECT event_id FROM inbound_events
           WHERE status IN ('handled', 'failed') AND received_at < ?
           LIMIT ?)`,
        [ago(this.knex, olderThanDays * 86_400_000), PRUNE_BATCH],
      );
      const n = affectedRows(result);
      deleted += n;
      if (n < PRUNE_BATCH) break;
    }
    if (deleted > 0) log.info({ deleted, olderThanDays }, "pruned old inbound events");
    return deleted;
  }

  /** Events claimed but not yet handled (an index range, cheap enough for every metrics scrape). */
  async unhandledCount(): Promise<number> {
    const row = (await this.knex("inbound_events")
      .where({ status: "claimed" })
      .count({ n: "*" })
      .first()) as {
      n: string | number;
    };
    return Number(row.n);
  }

  async counts(): Promise<Record<InboundStatus, number>> {
    const rows = (await this.knex("inbound_events").select("status").count({ n: "*" }).groupBy("status")) as {
      status: InboundStatus;
      n: string | number;
    }[];
    const out: Record<InboundStatus, number> = { claimed: 0, handled: 0, failed: 0 };
    for (const row of rows) out[row.status] = Number(row.n);
    return out;
  }
}
