import type { Knex } from "knex";

/**
 * The few places where PostgreSQL (and PGlite, which is PostgreSQL) and SQLite need different
 * SQL. Everything else is written once in forms both accept (knex's builder, CAST(… AS integer),
 * substr, FILTER, ON CONFLICT, RETURNING). Keep this list short: branch only where the meaning
 * differs.
 */

/** Name of our node:sqlite knex client (`client.driverName`). */
export const SQLITE_DRIVER = "node-sqlite";

type HasClient = { client: unknown } | Knex | Knex.Transaction;

export function isSqlite(db: HasClient): boolean {
  return (db.client as { driverName?: string } | undefined)?.driverName === SQLITE_DRIVER;
}

/**
 * SQLite: a timestamp is an integer of milliseconds since the epoch (what knex binds a Date as),
 * declared `timestamptz` so that the driver turns it back into a Date (sqliteDriver.ts). This is
 * the current time in that form; 'now' is fixed for the whole statement, like now() is.
 */
export const SQLITE_NOW_MS = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/** Column types and defaults for CREATE TABLE, per dialect. */
export interface DdlTypes {
  /** A DEFAULT expression for "now". */
  now: string;
  /** An auto-numbered primary key column's type ("id ${t.serialKey}"). */
  serialKey: string;
  /**
   * A table ordered by an auto-numbered `seq` beside a natural key: PostgreSQL keeps the natural
   * key as primary key and `seq` a bigserial; SQLite only numbers an INTEGER PRIMARY KEY, so
   * there `seq` is the primary key and the natural key is unique (ON CONFLICT on it still works).
   */
  seq: string;
  naturalKey: string;
}

export function ddlTypes(knex: HasClient): DdlTypes {
  return isSqlite(knex)
    ? {
        now: `(${SQLITE_NOW_MS})`,
        serialKey: "integer PRIMARY KEY AUTOINCREMENT",
        seq: "integer PRIMARY KEY AUTOINCREMENT",
        naturalKey: "NOT NULL UNIQUE",
      }
    : { now: "now()", serialKey: "bigserial PRIMARY KEY", seq: "bigserial", naturalKey: "PRIMARY KEY" };
}

/** The database's current time, for comparing with a timestamp column. */
export function dbNow(db: Knex | Knex.Transaction): Knex.Raw {
  return isSqlite(db) ? db.raw(SQLITE_NOW_MS) : db.raw("now()");
}

/** "More than `ms` milliseconds ago", by the database's clock, for comparing with a timestamp column. */
export function ago(db: Knex | Knex.Transaction, ms: number): Knex.Raw {
  return isSqlite(db)
    ? db.raw(`(${SQLITE_NOW_MS} - ?)`, [Math.round(ms)])
    : db.raw("now() - make_interval(secs => ?)", [ms / 1000]);
}
