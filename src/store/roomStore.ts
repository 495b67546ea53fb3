import type { Knex } from "knex";
import { affectedRows } from "./database";

export interface RoomRecord {
  roomId: string;
  kind: string;
  owner: string | null;
}

interface RoomRow {
  key: string;
  room_id: string;
  kind: string;
  owner: string | null;
}

/**
 * Rooms the bridge manages, under stable keys: "space:bridge", "home:<agentId>",
 * "space:user:<userId>", "dm:<agentId>:<userId>".
 */
export class RoomStore {
  constructor(private readonly knex: Knex) {}

  async get(key: string): Promise<RoomRecord | null> {
    const row = (await this.knex<RoomRow>("bridge_rooms").where({ key }).first()) as RoomRow | undefined;
    return row ? { roomId: row.room_id, kind: row.kind, owner: row.owner } : null;
  }

  /** Inserts or replaces the room stored under `key`. A room id may belong to one key only. */
  async put(key: string, roomId: string, kind: string, owner?: string | null): Promise<void> {
    await this.knex("bridge_rooms")
      .insert({ key, room_id: roomId, kind, owner: owner ?? null })
      .onConflict("key")
      .merge(["room_id", "kind", "owner"]);
  }

  async byKind(kind: string): Promise<{ key: string; roomId: string; owner: string | null }[]> {
    const rows = (await this.knex<RoomRow>("bridge_rooms").where({ kind }).orderBy("key")) as RoomRow[];
    return rows.map((r) => ({ key: r.key, roomId: r.room_id, owner: r.owner }));
  }

  async byRoomId(roomId: string): Promise<{ key: string; kind: string; owner: string | null } | null> {
    const row = (await this.knex<RoomRow>("bridge_rooms").where({ room_id: roomId }).first()) as
      RoomRow | undefined;
    return row ? { key: row.key, kind: row.kind, owner: row.owner } : null;
  }

  /** The rows of those of `roomIds` the store has (one query; missing rooms are left out). */
  async byRoomIds(roomIds: readonly string[]): Promise<{ key: string; roomId: string; kind: string }[]> {
    if (roomIds.length === 0) return [];
    const rows = (await this.knex<RoomRow>("bridge_rooms")
      .select("key", "room_id", "kind")
      .whereIn("room_id", roomIds as string[])) as Pick<RoomRow, "key" | "room_id" | "kind">[];
    return rows.map((r) => ({ key: r.key, roomId: r.room_id, kind: r.kind }));
  }

  /** Returns whether a row was deleted. */
  async delete(key: string): Promise<boolean> {
    return affectedRows(await this.knex("bridge_rooms").where({ key }).del()) > 0;
  }

  async count(): Promise<number> {
    const row = (await this.knex("bridge_rooms").count({ n: "*" }).first()) as { n: string | number };
    return Number(row.n);
  }
}
