import knexFactory, { type Knex } from "knex";
import { BridgeError, errorMessage } from "../errors";
import { NodeSqliteClient } from "./sqliteClient";

/** The embedded SQLite database's file inside `database.data_dir` (plus its `-wal` file). */
export const SQLITE_FILE = "bridge.sqlite";

/** node:sqlite's error for a file another connection holds (SQLITE_BUSY). */
function isBusy(err: unknown): boolean {
  const e = err as { errcode?: unknown; message?: unknown } | null;
  return e?.errcode === 5 || /database is locked/i.test(String(e?.message ?? ""));
}

/**
 * A knex instance on node:sqlite at `file` (or in memory), with its one connection open: the
 * exclusive lock is taken here, so a second process on the same file fails now, saying why.
 * One connection (knex's pool of 1 for SQLite): statements of a process never wait for each other
 * on a lock (SQLITE_BUSY cannot happen), a transaction simply has the connection until it ends.
 */
export async function openSqliteKnex(file: string | undefined, log: Knex.Logger): Promise<Knex> {
  const knex = knexFactory({
    client: NodeSqliteClient as unknown as Knex.Config["client"],
    connection: { filename: file ?? ":memory:" },
    useNullAsDefault: true,
    pool: { min: 1, max: 1, idleTimeoutMillis: Number.MAX_SAFE_INTEGER },
    log,
  });
  try {
    await knex.raw("select 1");
    return knex;
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    if (isBusy(err)) {
      throw new BridgeError(
        "DATABASE_UNAVAILABLE",
        `The embedded database ${file} is in use by another process`,
        "Another bridge is running on this database.data_dir: stop it, or give this one its own data_dir",
        { cause: err },
      );
    }
    throw new Error(errorMessage(err), { cause: err });
  }
}
