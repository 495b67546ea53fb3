import type { Knex } from "knex";
import type { Queryable } from "./database";
import { ago } from "./sqlDialect";

/** Rooms where agents were recently active (see migration 006). */
export class RoomActivity {
  constructor(private readonly knex: Knex) {}

  /** Marks rooms active now, in one statement (inside the claim's transaction). */
  async touch(db: Queryable, roomIds: readonly string[]): Promise<void> {
    const unique = [...new Set(roomIds)];
    if (unique.length === 0) return;
    await db("room_activity")
      .insert(unique.map((room_id) => ({ room_id, last_active_at: db.fn.now() })))
      .onConflict("room_id")
      .merge(["last_active_at"]);
  }

  /** Rooms active within the last `withinMs` (by the database clock), most recent first. */
  async activeSince(withinMs: number, limit: number): Promise<string[]> {
    const rows = (await this.knex("room_activity")
      .select("room_id")
      .where("last_active_at", ">", ago(this.knex, withinMs))
      .orderBy("last_active_at", "desc")
      .limit(limit)) as { room_id: string }[];
    return rows.map((r) => r.room_id);
  }

  /** Forgets rooms idle for longer than `olderThanMs`. */
  async prune(olderThanMs: number): Promise<void> {
    await this.knex("room_activity").where("last_active_at", "<", ago(this.knex, olderThanMs)).del();
  }
}
