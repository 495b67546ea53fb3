import type { Knex } from "knex";
import { isTransientError } from "../queue/retryPolicy";
import { needsHomeserver } from "../store/transactionScope";

/**
 * Savepoints only where a failure needs one. A batch of events first runs without any (on
 * PostgreSQL each SAVEPOINT and RELEASE is a round trip: four per command with the agent's
 * containment). A failure that issued no statement since the savepoint would have been taken has
 * nothing to roll back and is handled exactly as before; one that did (or any failed statement,
 * which spoils a PostgreSQL transaction) rolls the whole transaction back, and the batch runs again
 * with a savepoint per event and per agent call. Handlers already run again after a rollback
 * (transient failures, NeedsHomeserver): their durable effects live only in the transaction.
 */
interface Tracking {
  statements: number;
  /** A statement failed (even one a handler caught): PostgreSQL's COMMIT would quietly roll back. */
  failed?: unknown;
}

const tracked = new WeakMap<Knex.Transaction, Tracking>();

/** Thrown out of a batch that ran without savepoints: run it again with them. */
export class RetryWithSavepoints extends Error {
  constructor(readonly reason: unknown) {
    super("A batch that ran without savepoints failed; running it again with them");
  }
}

/** From now on `savepoint(trx, …)` takes none (see above). */
export function runWithoutSavepoints(trx: Knex.Transaction): void {
  const t: Tracking = { statements: 0 };
  tracked.set(trx, t);
  trx.on("query", () => t.statements++);
  trx.on("query-error", (err: unknown) => (t.failed ??= err));
}

/** Throws RetryWithSavepoints when a statement of `trx` (run without savepoints) failed. */
export function checkUnspoiled(trx: Knex.Transaction): void {
  const t = tracked.get(trx);
  if (t?.failed !== undefined) throw new RetryWithSavepoints(t.failed);
}

/**
 * `trx.transaction(fn)` (a savepoint), or, in a transaction running without savepoints, `fn(trx)`:
 * a failure after which a savepoint would have had something to roll back becomes
 * RetryWithSavepoints; any other failure is thrown as it is.
 */
export async function savepoint<T>(
  trx: Knex.Transaction,
  fn: (db: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const t = tracked.get(trx);
  if (!t) return trx.transaction(fn);
  const before = t.statements;
  try {
    const result = await fn(trx);
    checkUnspoiled(trx);
    return result;
  } catch (err) {
    if (err instanceof RetryWithSavepoints || needsHomeserver(err) || isTransientError(err)) throw err;
    if (t.statements !== before || t.failed !== undefined) throw new RetryWithSavepoints(err);
    throw err;
  }
}
