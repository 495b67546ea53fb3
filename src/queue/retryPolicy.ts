import { MatrixHttpError } from "../appservice/homeserverClient";
import { HomeserverError } from "../errors";

/** Why a row was parked, as a small fixed set (a metric label): refused by the homeserver, or given up on. */
export type ParkCode = "rejected" | "server_errors";

export type SendOutcome =
  { kind: "retry"; delayMs: number; reason: string } | { kind: "park"; reason: string; code: ParkCode };

export interface SendLimits {
  /**
   * Failed attempts after which a send that keeps failing with 5xx (or an unexpected error) is
   * parked instead of retried for ever. Network errors and 429 never count: an unreachable or busy
   * homeserver loses nothing.
   */
  maxServerErrors?: number;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Capped exponential backoff with full jitter ("attempt" counts from 0). */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Decides what to do with a failed send. 429 honours the server's hint (header first,
 * then the body); 5xx, timeouts and network errors back off; other 4xx (403 not in room,
 * 404 no such room, 400 bad event) will not get better by retrying, so the row is parked.
 */
export function classifySendError(
  err: unknown,
  attempt: number,
  opts: BackoffOptions,
  limits: SendLimits = {},
): SendOutcome {
  const exhausted = limits.maxServerErrors !== undefined && attempt + 1 >= limits.maxServerErrors;
  const giveUp = (reason: string): SendOutcome => ({
    kind: "park",
    code: "server_errors",
    reason: `gave up after ${attempt + 1} failed attempts: ${reason}`,
  });
  if (err instanceof MatrixHttpError) {
    if (err.status === 429) {
      const delayMs = err.retryAfterMs ?? backoffDelay(attempt, opts);
      return { kind: "retry", delayMs: Math.max(delayMs, 50), reason: `429 ${err.errcode}` };
    }
    if (err.status >= 500 || err.status === 408) {
      if (exhausted) return giveUp(err.message);
      return { kind: "retry", delayMs: backoffDelay(attempt, opts), reason: err.message };
    }
    return { kind: "park", code: "rejected", reason: err.message };
  }
  if (err instanceof HomeserverError) {
    return { kind: "retry", delayMs: backoffDelay(attempt, opts), reason: err.message };
  }
  // Unknown errors are bugs on our side; retrying a few times is harmless, then the row is parked
  // where an operator sees it (metrics, doctor) rather than retried silently for ever.
  if (exhausted) return giveUp(String((err as Error)?.message ?? err));
  return {
    kind: "retry",
    delayMs: backoffDelay(attempt, opts),
    reason: String((err as Error)?.message ?? err),
  };
}

/** Network error codes of Node, undici and node-postgres that say "try again later". */
const TRANSIENT_CODES = new Set([
  // A crypto device held by another process, or saved by it in between (src/crypto/).
  "CRYPTO_DEVICE_BUSY",
  "CRYPTO_STORE_CONFLICT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

const TRANSIENT_MESSAGE =
  /Timeout acquiring a connection|Connection terminated|connection error|socket hang up|fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Knex: Timeout/i;

/**
 * Whether an error while handling an event may go away by itself: the homeserver or the database
 * unreachable, overloaded or restarting (5xx, 429, network errors, PostgreSQL connection
 * exceptions, serialization failures and deadlocks). Such events are retried; anything else
 * (a 403 on a join, a bug) is recorded as failed.
 */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof MatrixHttpError) return e.status >= 500 || e.status === 429 || e.status === 408;
    if (e instanceof HomeserverError) return true;
    const x = e as {
      code?: unknown;
      statusCode?: unknown;
      httpStatus?: unknown;
      errcode?: unknown;
      body?: { errcode?: unknown };
      message?: unknown;
      cause?: unknown;
    };
    const status = Number(x.statusCode ?? x.httpStatus);
    if (Number.isFinite(status) && status > 0) return status >= 500 || status === 429 || status === 408;
    if (x.errcode === "M_LIMIT_EXCEEDED" || x.body?.errcode === "M_LIMIT_EXCEEDED") return true;
    if (typeof x.code === "string") {
      if (TRANSIENT_CODES.has(x.code)) return true;
      // PostgreSQL SQLSTATE: 08 connection exception, 57P0x shutdown / cannot connect now,
      // 53300 too many connections, 40001 serialization failure, 40P01 deadlock.
      if (/^08|^57P0[1-3]$|^53300$|^40001$|^40P01$/.test(x.code)) return true;
    }
    if (typeof x.message === "string" && TRANSIENT_MESSAGE.test(x.message)) return true;
    e = x.cause;
  }
  return false;
}
