import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { storableText, toJsonb, type Queryable } from "./database";

export interface ScheduledItem {
  id: string;
  agentId: string;
  dueAt: Date;
  payload: Record<string, unknown>;
  firedCount: number;
}

interface ItemRow {
  id: string;
  agent_id: string;
  due_at: Date | string;
  payload: Record<string, unknown> | string;
  fired_count: number | string;
}

function toItem(row: ItemRow): ScheduledItem {
  return {
    id: row.id,
    agentId: row.agent_id,
    dueAt: new Date(row.due_at),
    payload: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
    firedCount: Number(row.fired_count),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The scheduled_items table. Methods take the caller's transaction so scheduling commits with the rest. */
export class ScheduleStore {
  constructor(private readonly knex: Knex) {}

  async add(db: Queryable, agentId: string, dueAt: Date, payload: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await db("scheduled_items").insert({ id, agent_id: agentId, due_at: dueAt, payload: toJsonb(payload) });
    return id;
  }

  /** Cancels a pending item of this agent; false if there is none. */
  async cancel(db: Queryable, agentId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await db("scheduled_items")
      .where({ id, agent_id: agentId, status: "pending" })
      .update({ status: "cancelled", updated_at: db.fn.now() })
      .returning("id");
    return rows.length > 0;
  }

  async reschedule(db: Queryable, agentId: string, id: string, dueAt: Date): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await db("scheduled_items")
      .where({ id, agent_id: agentId, status: "pending" })
      .update({ due_at: dueAt, updated_at: db.fn.now() })
      .returning("id");
    return rows.length > 0;
  }

  /** Earliest due time among pending items of the given agents (null when none). */
  async nextDueAt(agentIds: readonly string[]): Promise<Date | null> {
    if (agentIds.length === 0) return null;
    const row = await this.knex("scheduled_items")
      .where({ status: "pending" })
      .whereIn("agent_id", agentIds)
      .min({ due: "due_at" })
      .first();
    return row?.due ? new Date(row.due) : null;
  }

  /**
   * Locks one due item for the duration of `trx` (SKIP LOCKED: another process takes the
   * next one instead of waiting), or returns null when nothing is due.
   */
  async claimDue(
    trx: Knex.Transaction,
    agentIds: readonly string[],
    now: Date,
  ): Promise<ScheduledItem | null> {
    if (agentIds.length === 0) return null;
    const row = await trx("scheduled_items")
      .where({ status: "pending" })
      .whereIn("agent_id", agentIds)
      .andWhere("due_at", "<=", now)
      .orderBy("due_at")
      .limit(1)
      .forUpdate()
      .skipLocked()
      .first();
    return row ? toItem(row as ItemRow) : null;
  }

  /** Up to `limit` due items, earliest first, locked for the duration of `trx` (SKIP LOCKED). */
  async claimDueMany(
    trx: Knex.Transaction,
    agentIds: readonly string[],
    now: Date,
    limit: number,
  ): Promise<ScheduledItem[]> {
    if (agentIds.length === 0) return [];
    const rows = await trx("scheduled_items")
      .where({ status: "pending" })
      .whereIn("agent_id", agentIds)
      .andWhere("due_at", "<=", now)
      .orderBy([{ column: "due_at" }, { column: "id" }])
      .limit(limit)
      .forUpdate()
      .skipLocked();
    return (rows as ItemRow[]).map(toItem);
  }

  async complete(trx: Knex.Transaction, id: string): Promise<void> {
    await trx("scheduled_items")
      .where({ id })
      .update({ status: "done", fired_count: trx.raw("fired_count + 1"), updated_at: trx.fn.now() });
  }

  async repeat(
    trx: Knex.Transaction,
    id: string,
    dueAt: Date,
    payload?: Record<string, unknown>,
  ): Promise<void> {
    await trx("scheduled_items")
      .where({ id })
      .update({
        due_at: dueAt,
        fired_count: trx.raw("fired_count + 1"),
        updated_at: trx.fn.now(),
        ...(payload ? { payload: toJsonb(payload) } : {}),
      });
  }

  async fail(db: Queryable, id: string, error: string): Promise<void> {
    await db("scheduled_items")
      .where({ id })
      .update({ status: "failed", last_error: storableText(error.slice(0, 4000)), updated_at: db.fn.now() });
  }

  async get(db: Queryable, id: string): Promise<(ScheduledItem & { status: string }) | null> {
    if (!UUID.test(id)) return null;
    const row = await db("scheduled_items").where({ id }).first();
    return row ? { ...toItem(row as ItemRow), status: row.status } : null;
  }

  async countPending(agentId?: string): Promise<number> {
    const q = this.knex("scheduled_items").where({ status: "pending" });
    if (agentId) q.andWhere({ agent_id: agentId });
    const row = await q.count({ n: "*" }).first();
    return Number(row?.n ?? 0);
  }
}
