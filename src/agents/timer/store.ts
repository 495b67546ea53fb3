import { randomInt } from "node:crypto";
import { affectedRows, storableText, type Queryable } from "../kit";

export interface Timer {
  id: string;
  owner: string;
  roomId: string;
  name: string | null;
  durationMs: number;
  status: "running" | "paused";
  dueAt: Date | null;
  remainingMs: number | null;
  itemId: string | null;
  createdAt: Date;
  threadRoot: string | null;
}

interface TimerRow {
  id: string;
  owner: string;
  room_id: string;
  name: string | null;
  duration_ms: number | string;
  status: "running" | "paused";
  due_at: Date | string | null;
  remaining_ms: number | string | null;
  item_id: string | null;
  created_at: Date | string;
  thread_root: string | null;
}

function toTimer(r: TimerRow): Timer {
  return {
    id: r.id,
    owner: r.owner,
    roomId: r.room_id,
    name: r.name,
    durationMs: Number(r.duration_ms),
    status: r.status,
    dueAt: r.due_at === null ? null : new Date(r.due_at),
    remainingMs: r.remaining_ms === null ? null : Number(r.remaining_ms),
    itemId: r.item_id,
    createdAt: new Date(r.created_at),
    threadRoot: r.thread_root ?? null,
  };
}

/** Short ids people can type: no 0/o, 1/l/i. */
const ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

export function newTimerId(): string {
  return Array.from({ length: 5 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join("");
}

/** Time left on a timer at `now` (never negative). */
export function remaining(timer: Timer, now: Date): number {
  if (timer.status === "paused") return Math.max(0, timer.remainingMs ?? 0);
  return Math.max(0, (timer.dueAt?.getTime() ?? 0) - now.getTime());
}

/** The timers table, on the caller's transaction. */
export class TimerStore {
  constructor(private readonly db: Queryable) {}

  async create(t: {
    owner: string;
    roomId: string;
    name: string | null;
    durationMs: number;
    dueAt: Date;
    sourceEventId?: string;
    createdAt: Date;
    threadRoot?: string;
  }): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const id = newTimerId();
      const rows = await this.db("timers")
        .insert({
          id,
          owner: t.owner,
          room_id: t.roomId,
          name: t.name === null ? null : storableText(t.name),
          duration_ms: t.durationMs,
          status: "running",
          due_at: t.dueAt,
          source_event_id: t.sourceEventId ?? null,
          created_at: t.createdAt,
          thread_root: t.threadRoot ?? null,
        })
        .onConflict("id")
        .ignore()
        .returning("id");
      if (rows.length > 0) return id;
      if (attempt >= 5) throw new Error("Could not find a free timer id");
    }
  }

  /** Locks the row for the rest of the transaction, so a firing and a command cannot cross. */
  async get(id: string): Promise<Timer | undefined> {
    const row = await this.db("timers").where({ id }).forUpdate().first();
    return row ? toTimer(row as TimerRow) : undefined;
  }

  async byOwner(owner: string): Promise<Timer[]> {
    const rows = (await this.db("timers").where({ owner }).orderBy("created_at")) as TimerRow[];
    return rows.map(toTimer);
  }

  /** Timers an earlier command started (an edit of that command replaces them). */
  async fromSource(sourceEventId: string, owner: string): Promise<Timer[]> {
    const rows = (await this.db("timers")
      .where({ source_event_id: sourceEventId, owner })
      .forUpdate()) as TimerRow[];
    return rows.map(toTimer);
  }

  async countByOwner(owner: string): Promise<number> {
    const row = await this.db("timers").where({ owner }).count({ n: "*" }).first();
    return Number(row?.n ?? 0);
  }

  async setItem(id: string, itemId: string): Promise<void> {
    await this.db("timers").where({ id }).update({ item_id: itemId });
  }

  async pause(id: string, remainingMs: number): Promise<void> {
    await this.db("timers")
      .where({ id })
      .update({ status: "paused", remaining_ms: remainingMs, due_at: null, item_id: null });
  }

  async resume(id: string, dueAt: Date, itemId: string): Promise<void> {
    await this.db("timers")
      .where({ id })
      .update({ status: "running", remaining_ms: null, due_at: dueAt, item_id: itemId });
  }

  /** Adds time: to `due_at` when running, to `remaining_ms` when paused. */
  async extend(timer: Timer, addMs: number): Promise<void> {
    const update =
      timer.status === "running"
        ? { due_at: new Date((timer.dueAt?.getTime() ?? 0) + addMs) }
        : { remaining_ms: (timer.remainingMs ?? 0) + addMs };
    await this.db("timers")
      .where({ id: timer.id })
      .update({ ...update, duration_ms: timer.durationMs + addMs });
  }

  async remove(id: string): Promise<boolean> {
    return affectedRows(await this.db("timers").where({ id }).del()) > 0;
  }

  /** A room upgrade: timers keep going and ring in the new room. */
  async moveRoom(oldRoom: string, newRoom: string): Promise<number> {
    return affectedRows(await this.db("timers").where({ room_id: oldRoom }).update({ room_id: newRoom }));
  }
}
