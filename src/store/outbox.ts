import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { BridgeError } from "../errors";
import { affectedRows, storableText, toJsonb, type Queryable } from "./database";
import { currentParallelGroup } from "../queue/parallelGroup";
import { withSessionAdvisoryLock } from "./advisoryLock";
import { ago } from "./sqlDialect";
import { toOutboxRow, type Row } from "./outboxRows";

export type OutboxStatus = "pending" | "sent" | "failed";

export interface OutboxMessage {
  roomId: string;
  /** The user id the event is sent as (an agent's virtual user or the bridge bot). */
  sender: string;
  type: string;
  content: Record<string, unknown>;
  /** When set (even to ""), the message is a state event with this state key. */
  stateKey?: string;
  /** The inbound event this message answers, if any. */
  sourceEventId?: string;
  /**
   * Rows of different groups in a run of grouped rows may be sent at the same time; no group
   * (the default, every reply) keeps the room's strict order. Default: the caller's group
   * (src/queue/parallelGroup.ts).
   */
  parallelGroup?: string;
}

export interface OutboxRow extends OutboxMessage {
  /** Also the Matrix transaction id of the send request, so a retried send is not duplicated. */
  id: string;
  seq: number;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  sentEventId: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_LENGTH = 4000;
/** Rows per DELETE when pruning. */
const PRUNE_BATCH = 5000;
/** First key of the advisory locks that make one process at a time deliver a room ("mab" in ASCII). */
const ROOM_LOCK_CLASS = 0x6d6162;

function errorText(error: string): string {
  return storableText(error).slice(0, MAX_ERROR_LENGTH);
}

/**
 * Due heads of the per-room queues: pending rows due at `?` with no older pending row in their
 * room. Messages of a room are sent strictly in order, so only a room's head may be sent, and a
 * head that is backing off blocks its room (and only its room). NOT EXISTS rather than
 * PostgreSQL's DISTINCT ON, so SQLite runs it too; the (status, room_id, seq) index answers it.
 */
const IS_HEAD = `o.status = 'pending' AND NOT EXISTS (
  SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.room_id = o.room_id AND p.seq < o.seq)`;
const DUE_HEADS = `SELECT o.room_id FROM outbox o WHERE ${IS_HEAD} AND o.next_attempt_at <= ? ORDER BY o.seq LIMIT ?`;

/**
 * Durable queue of outgoing Matrix events. Enqueue in the same transaction as the state change
 * that produced the message; a dispatcher sends each room's head and marks it sent, to retry, or
 * failed.
 */
export class Outbox {
  private readonly touched = new Set<string>();

  constructor(private readonly knex: Knex) {}

  async enqueue(trxOrKnex: Queryable, msg: OutboxMessage): Promise<OutboxRow> {
    for (const field of ["roomId", "sender", "type"] as const) {
      if (typeof msg[field] !== "string" || msg[field] === "") {
        throw new BridgeError("INVALID_ARGUMENT", `Outbox message needs a non-empty ${field}`);
      }
    }
    if (!msg.content || typeof msg.content !== "object" || Array.isArray(msg.content)) {
      throw new BridgeError("INVALID_ARGUMENT", "Outbox message content must be an object");
    }
    const rows = (await trxOrKnex("outbox")
      .insert({
        id: randomUUID(),
        room_id: storableText(msg.roomId),
        sender: storableText(msg.sender),
        event_type: storableText(msg.type),
        content: toJsonb(msg.content),
        state_key: msg.stateKey === undefined ? null : storableText(msg.stateKey),
        source_event_id: msg.sourceEventId === undefined ? null : storableText(msg.sourceEventId),
        parallel_group: msg.parallelGroup ?? currentParallelGroup() ?? null,
      })
      .returning("*")) as Row[];
    this.touched.add(msg.roomId);
    return toOutboxRow(rows[0]);
  }

  /**
   * Rooms written to since the last call (maybe in a transaction that then rolled back): the worker
   * looks at them as soon as it is woken, without polling the table first.
   */
  takeTouchedRooms(): string[] {
    const rooms = [...this.touched];
    this.touched.clear();
    return rooms;
  }

  /** Rooms whose head (oldest pending message) is due at `now`, the room with the oldest head first. */
  async roomsWithDue(now: Date = new Date(), limit = 100): Promise<string[]> {
    const result = await this.knex.raw<{ rows: { room_id: string }[] }>(DUE_HEADS, [now, limit]);
    return result.rows.map((r) => r.room_id);
  }

  /** The oldest pending message of a room, whether or not it is due. */
  async headOfRoom(roomId: string, db: Queryable = this.knex): Promise<OutboxRow | null> {
    const row = (await db("outbox").where({ room_id: roomId, status: "pending" }).orderBy("seq").first()) as
      Row | undefined;
    return row ? toOutboxRow(row) : null;
  }

  /**
   * The room's head and, when it belongs to a parallel group, the grouped rows right after it:
   * the first pending row of each group in the run, up to `limit` (see parallelGroup.ts).
   */
  async headRun(roomId: string, limit: number, db: Queryable = this.knex): Promise<OutboxRow[]> {
    const rows = (await db("outbox")
      .where({ room_id: roomId, status: "pending" })
      .orderBy("seq")
      .limit(limit * 4)) as Row[];
    const out: OutboxRow[] = [];
    const groups = new Set<string>();
    for (const row of rows) {
      if (!row.parallel_group) {
        if (out.length === 0) out.push(toOutboxRow(row));
        break; // an ungrouped row is a barrier: it goes alone, after everything before it
      }
      if (groups.has(row.parallel_group)) continue; // after its group's earlier row, later
      groups.add(row.parallel_group);
      out.push(toOutboxRow(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Earliest time a room head becomes due (may be in the past), or null when nothing is pending. */
  async nextDueAt(): Promise<Date | null> {
    const result = await this.knex.raw<{ rows: { due: Date | string | null }[] }>(
      `SELECT min(o.next_attempt_at) AS due FROM outbox o WHERE ${IS_HEAD}`,
    );
    const due = result.rows[0]?.due ?? null;
    return due === null ? null : new Date(due);
  }

  /** Records a successful send. Returns false if the row does not exist or was not pending. */
  async markSent(id: string, eventId: string, db: Queryable = this.knex): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const n = await db("outbox")
      .where({ id, status: "pending" })
      .update({ status: "sent", sent_event_id: storableText(eventId), sent_at: db.fn.now() });
    return Number(n) > 0;
  }

  /** Records a failed attempt (attempts + 1) and when to try again. */
  async markRetry(
    id: string,
    error: string,
    nextAttemptAt: Date,
    db: Queryable = this.knex,
  ): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const n = await db("outbox")
      .where({ id, status: "pending" })
      .update({
        attempts: db.raw("attempts + 1"),
        last_error: errorText(error),
        next_attempt_at: nextAttemptAt,
      });
    return Number(n) > 0;
  }

  /**
   * Parks a message that cannot be sent (status 'failed', attempts + 1 for the final attempt), so
   * the next message of its room becomes the head.
   */
  async markFailed(id: string, reason: string, db: Queryable = this.knex): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const n = await db("outbox")
      .where({ id, status: "pending" })
      .update({ status: "failed", attempts: db.raw("attempts + 1"), last_error: errorText(reason) });
    return Number(n) > 0;
  }

  /**
   * Runs `fn` while this process holds the room's delivery lock (a PostgreSQL session advisory
   * lock on a connection set aside for it), or returns "busy" at once when another process holds
   * it. No transaction is open while `fn` sends (the team rule: no homeserver request inside a
   * transaction); the lock dies with its connection, so a crashed process never blocks a room.
   * Only for PostgreSQL: PGlite has one connection and one process.
   */
  async withRoomLock<T>(roomId: string, fn: (trx?: Knex.Transaction) => Promise<T>): Promise<T | "busy"> {
    return withSessionAdvisoryLock(this.knex, ROOM_LOCK_CLASS, roomId, () => fn());
  }

  /**
   * Deletes sent messages sent more than `sentDays` days ago and parked (failed) ones created more
   * than `failedDays` days ago (`null`: parked ones are kept until an operator acts on them).
   * Pending messages are never pruned. Returns the rows deleted.
   */
  async prune(sentDays: number, failedDays: number | null): Promise<{ sent: number; failed: number }> {
    for (const [name, days] of [
      ["sentDays", sentDays],
      ["failedDays", failedDays ?? 0],
    ] as const) {
      if (!Number.isFinite(days) || days < 0) {
        throw new BridgeError("INVALID_ARGUMENT", `prune: ${name} must be >= 0, got ${days}`);
      }
    }
    const run = async (status: "sent" | "failed", column: string, days: number): Promise<number> => {
      let deleted = 0;
      for (;;) {
        const result = await this.knex.raw(
          `DELETE FROM outbox WHERE id IN (
             SELECT id FROM outbox WHERE status = ? AND ${column} < ? LIMIT ?)`,
          [status, ago(this.knex, days * 86_400_000), PRUNE_BATCH],
        );
        const n = affectedRows(result);
        deleted += n;
        if (n < PRUNE_BATCH) return deleted;
      }
    };
    return {
      sent: await run("sent", "sent_at", sentDays),
      failed: failedDays === null ? 0 : await run("failed", "created_at", failedDays),
    };
  }

  /** Messages parked for good (status 'failed'). */
  async failedCount(): Promise<number> {
    const row = (await this.knex("outbox").where({ status: "failed" }).count({ n: "*" }).first()) as {
      n: string | number;
    };
    return Number(row.n);
  }

  async pendingCount(): Promise<number> {
    const row = (await this.knex("outbox").where({ status: "pending" }).count({ n: "*" }).first()) as {
      n: string | number;
    };
    return Number(row.n);
  }

  /** Age in seconds of the oldest pending message at `now`, 0 when nothing is pending. */
  async oldestPendingAgeSeconds(now: Date = new Date()): Promise<number> {
    const row = (await this.knex("outbox")
      .where({ status: "pending" })
      .min({ oldest: "created_at" })
      .first()) as {
      oldest: Date | string | null;
    };
    if (!row?.oldest) return 0;
    return Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000);
  }

  async get(id: string): Promise<OutboxRow | null> {
    if (!UUID.test(id)) return null;
    const row = (await this.knex("outbox").where({ id }).first()) as Row | undefined;
    return row ? toOutboxRow(row) : null;
  }

  /** All messages of a room (any status), in queue order. */
  async listForRoom(roomId: string): Promise<OutboxRow[]> {
    const rows = (await this.knex("outbox").where({ room_id: roomId }).orderBy("seq")) as Row[];
    return rows.map(toOutboxRow);
  }
}
