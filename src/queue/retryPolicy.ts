import { MatrixHttpError } from "../appservice/homeserverClient";
import { HomeserverError } from "../errors";

export type SendOutcome =
  { kind: "retry"; delayMs: number; reason: string } | { kind: "park"; reason: string };

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
export function classifySendError(err: unknown, attempt: number, opts: BackoffOptions): SendOutcome {
  if (err instanceof MatrixHttpError) {
    if (err.status === 429) {
      const delayMs = err.retryAfterMs ?? backoffDelay(attempt, opts);
      return { kind: "retry", delayMs: Math.max(delayMs, 50), reason: `429 ${err.errcode}` };
    }
    if (err.status >= 500 || err.status === 408) {
      return { kind: "retry", delayMs: backoffDelay(attempt, opts), reason: err.message };
    }
    return { kind: "park", reason: err.message };
  }
  if (err instanceof HomeserverError) {
    return { kind: "retry", delayMs: backoffDelay(attempt, opts), reason: err.message };
  }
  // Unknown errors are bugs on our side; retrying a few times is harmless, parking hides them.
  return {
    kind: "retry",
    delayMs: backoffDelay(attempt, opts),
    reason: String((err as Error)?.message ?? err),
  };
}
