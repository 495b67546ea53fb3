import type { Knex } from "knex";
import { BridgeError } from "../errors";
import { moduleLogger } from "../logging/logger";
import { affectedRows } from "../store/database";

const log = moduleLogger("admin/parked");

/**
 * Parked messages are outbox rows with status 'failed': the homeserver refused them for good
 * (403 not in the room, 404 no such room, …) or, after a limit, kept failing. They stay until an
 * operator retries or discards them (delivery.failed_retention_days = 0).
 */
export interface ParkedMessage {
  id: string;
  sender: string;
  roomId: string;
  type: string;
  createdAt: Date;
  attempts: number;
  lastError: string;
  reason: string;
  /** The start of the message body, for recognising it. */
  preview: string;
}

/** At most this many rows are listed in one answer. */
export const PARKED_LIST_LIMIT = 20;
/** A short id must have at least this many characters (ids are UUIDs). */
const MIN_ID_PREFIX = 6;

/**
 * A stable, low-cardinality reason code from the stored error: the Matrix errcode of a refusal
 * ("M_FORBIDDEN"), "server_errors" when the worker gave up after repeated 5xx or network errors
 * (delivery.max_server_errors), "other" for anything else.
 */
export function parkReason(lastError: string | null): string {
  const text = lastError ?? "";
  if (/^gave up after \d+ failed attempts/.test(text) || /^5\d\d\b/.test(text)) return "server_errors";
  const match = /^\d{3} (M_[A-Z_]{1,40})\b/.exec(text);
  return match ? match[1] : "other";
}

interface Row {
  id: string;
  sender: string;
  room_id: string;
  event_type: string;
  created_at: Date | string;
  attempts: number;
  last_error: string | null;
  content: Record<string, unknown> | string;
}

function toParked(row: Row): ParkedMessage {
  const content = typeof row.content === "string" ? JSON.parse(row.content) : row.content;
  const body = typeof content?.body === "string" ? content.body : "";
  return {
    id: row.id,
    sender: row.sender,
    roomId: row.room_id,
    type: row.event_type,
    createdAt: new Date(row.created_at),
    attempts: Number(row.attempts),
    lastError: row.last_error ?? "",
    reason: parkReason(row.last_error),
    preview: body.length > 60 ? `${body.slice(0, 57)}…` : body,
  };
}

export class ParkedMessages {
  constructor(private readonly knex: Knex) {}

  /** The oldest parked messages first, and how many there are in all. */
  async list(limit = PARKED_LIST_LIMIT): Promise<{ total: number; rows: ParkedMessage[] }> {
    const rows = (await this.knex("outbox")
      .where({ status: "failed" })
      .orderBy("seq")
      .limit(limit)
      .select(
        "id",
        "sender",
        "room_id",
        "event_type",
        "created_at",
        "attempts",
        "last_error",
        "content",
      )) as Row[];
    return { total: await this.count(), rows: rows.map(toParked) };
  }

  async get(id: string): Promise<ParkedMessage | undefined> {
    const row = (await this.knex("outbox")
      .where({ id, status: "failed" })
      .first("id", "sender", "room_id", "event_type", "created_at", "attempts", "last_error", "content")) as
      Row | undefined;
    return row ? toParked(row) : undefined;
  }

  async count(): Promise<number> {
    const row = (await this.knex("outbox").where({ status: "failed" }).count({ n: "*" }).first()) as {
      n: string | number;
    };
    return Number(row.n);
  }

  /** Parked counts by reason code (for the metric and `status`). */
  async countByReason(): Promise<Map<string, number>> {
    const rows = (await this.knex("outbox")
      .where({ status: "failed" })
      .select(this.knex.raw("substr(last_error, 1, 64) as head"))
      .count({ n: "*" })
      .groupBy("head")) as { head: string | null; n: string | number }[];
    const out = new Map<string, number>();
    for (const row of rows) {
      const reason = parkReason(row.head);
      out.set(reason, (out.get(reason) ?? 0) + Number(row.n));
    }
    return out;
  }

  /** The full id of the one parked message whose id starts with `prefix`. */
  async resolve(prefix: string): Promise<string> {
    const p = prefix.trim().toLowerCase();
    if (!/^[0-9a-f-]+$/.test(p) || p.length < MIN_ID_PREFIX || p.length > 36) {
      throw new BridgeError(
        "ADMIN_BAD_ID",
        `'${prefix.slice(0, 40)}' is not a message id`,
        `Give at least ${MIN_ID_PREFIX} characters of an id that \`parked\` shows`,
      );
    }
    const rows = (await this.knex("outbox")
      .where({ status: "failed" })
      .andWhereRaw("CAST(id AS text) LIKE ?", [`${p.replace(/[%_]/g, "")}%`])
      .limit(2)
      .select("id")) as { id: string }[];
    if (rows.length === 0) throw new BridgeError("ADMIN_NOT_FOUND", `No parked message with id ${p}`);
    if (rows.length > 1) throw new BridgeError("ADMIN_AMBIGUOUS", `Several parked messages start with ${p}`);
    return rows[0].id;
  }

  /**
   * Puts parked messages back in their room's queue: same row, same transaction id (so a
   * homeserver that did take it once deduplicates it), attempts from zero, due now.
   */
  async retry(ids: "all" | string[], by: string): Promise<number> {
    const q = this.knex("outbox").where({ status: "failed" });
    if (ids !== "all") q.whereIn("id", ids);
    const n = affectedRows(
      await q.update({ status: "pending", attempts: 0, next_attempt_at: this.knex.fn.now() }),
    );
    log.info({ count: n, by, ids: ids === "all" ? "all" : ids }, "Parked messages put back in the queue");
    return n;
  }

  /** Deletes one parked message for good. */
  async discard(id: string, by: string): Promise<boolean> {
    const n = affectedRows(await this.knex("outbox").where({ id, status: "failed" }).del());
    if (n) log.info({ id, by }, "Parked message discarded");
    return n > 0;
  }
}
