import { AsyncLocalStorage } from "node:async_hooks";
import type { Knex } from "knex";
import { BridgeError } from "../errors";

/**
 * Knows whether the code running now is inside a database transaction, so that nothing calls the
 * homeserver while one is open (on the embedded database the one connection would wait for an
 * HTTP round trip, and a rollback would leave the homeserver changed). Every `knex.transaction`
 * callback runs in a scope that is open until the transaction settles; work it leaves behind
 * (a promise still running after commit) sees the scope closed.
 */
interface Scope {
  open: boolean;
  /** A NeedsHomeserver raised in this transaction, even if the code that saw it swallowed it. */
  need?: NeedsHomeserver;
}

const scopes = new AsyncLocalStorage<Scope>();

export function inTransaction(): boolean {
  return scopes.getStore()?.open === true;
}

/** Throws when called inside a transaction: a programming error that the tests catch. */
export function assertOutsideTransaction(what: string): void {
  if (inTransaction()) {
    throw new BridgeError(
      "HTTP_IN_TRANSACTION",
      `${what} was called while a database transaction is open`,
      "Fetch what the handler needs before the transaction (prepare), or send it after commit (outbox)",
    );
  }
}

/** Makes every `knex.transaction(callback)` of this instance run its callback in a scope. */
export function scopeTransactions(knex: Knex): Knex {
  const original = knex.transaction as unknown as (this: Knex, handler: unknown, config: unknown) => unknown;
  Object.defineProperty(knex, "transaction", {
    configurable: true,
    writable: true,
    value: function transaction(this: Knex, handler?: unknown, config?: unknown) {
      if (typeof handler !== "function") return original.call(this, handler, config);
      return original.call(
        this,
        (trx: Knex.Transaction) => {
          const scope: Scope = { open: true };
          return scopes.run(scope, async () => {
            try {
              const result = await (handler as (t: Knex.Transaction) => unknown)(trx);
              // Something needed the homeserver and the caller caught it (an agent's own
              // try/catch): what it did without the answer must not commit.
              if (scope.need) throw scope.need;
              return result;
            } finally {
              scope.open = false;
            }
          });
        },
        config,
      );
    },
  });
  return knex;
}

/**
 * Thrown inside a transaction by a cache that does not hold what the handler asked for (who is in
 * a room, its power levels): the transaction is rolled back, `fetch` runs outside it, and the
 * work runs again, now served from the cache.
 */
export class NeedsHomeserver extends BridgeError {
  constructor(
    what: string,
    readonly fetch: () => Promise<unknown>,
  ) {
    super("NEEDS_HOMESERVER", `Needs the homeserver first: ${what}`);
    const scope = scopes.getStore();
    if (scope?.open) scope.need ??= this;
  }
}

/** The NeedsHomeserver raised so far in the current transaction, if any; clears it. */
export function takePendingNeed(): NeedsHomeserver | undefined {
  const scope = scopes.getStore();
  const need = scope?.need;
  if (scope) scope.need = undefined;
  return need;
}

export function needsHomeserver(err: unknown): NeedsHomeserver | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NeedsHomeserver) return e;
  }
  return undefined;
}

/**
 * `knex.transaction(fn)`, re-run after fetching outside the transaction whenever `fn` needed
 * something from the homeserver that no cache held (at most `maxRounds` fetches).
 */
export async function transactionWithPrefetch<T>(
  knex: Knex,
  fn: (trx: Knex.Transaction) => Promise<T>,
  maxRounds = 5,
): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await knex.transaction(fn);
    } catch (err) {
      const need = needsHomeserver(err);
      if (!need || round >= maxRounds) throw err;
      await need.fetch();
    }
  }
}
