import type { Knex } from "knex";
import { isSqlite } from "./sqlDialect";

interface PoolClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(c: unknown): Promise<void>;
}

/**
 * Runs `fn` while this process holds a PostgreSQL session advisory lock `(lockClass, hashtext(key))`,
 * taken on a pooled connection set aside for it, or returns "busy" when another session holds it
 * (after retrying every `retryMs` for up to `waitMs`; 0 = one try). No transaction is open while
 * `fn` runs, so `fn` may call the homeserver (the team rule: never inside a transaction). The lock
 * dies with its connection: a killed process never blocks anyone.
 */
export async function withSessionAdvisoryLock<T>(
  knex: Knex,
  lockClass: number,
  key: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number; retryMs?: number } = {},
): Promise<T | "busy"> {
  // SQLite: this process holds the database file exclusively (sqliteClient.ts), so it holds
  // every lock there is; the callers' in-process queues order their own work.
  if (isSqlite(knex)) return fn();
  const client = knex.client as PoolClient;
  const connection = await client.acquireConnection();
  try {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (;;) {
      const result = await knex
        .raw<{ rows: { locked: boolean }[] }>("SELECT pg_try_advisory_lock(?, hashtext(?)) AS locked", [
          lockClass,
          key,
        ])
        .connection(connection);
      if (result.rows[0]?.locked) break;
      if (Date.now() >= deadline) return "busy";
      await new Promise((resolve) => setTimeout(resolve, opts.retryMs ?? 50));
    }
    try {
      return await fn();
    } finally {
      await knex
        .raw("SELECT pg_advisory_unlock(?, hashtext(?))", [lockClass, key])
        .connection(connection)
        .catch((err) => {
          // A connection that may still hold the lock must not go back to the pool.
          (connection as { __knex__disposed?: unknown }).__knex__disposed = err;
        });
    }
  } finally {
    await client.releaseConnection(connection);
  }
}
