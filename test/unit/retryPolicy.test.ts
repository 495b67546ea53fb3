import { MatrixHttpError } from "../../src/appservice/homeserverClient";
import { HomeserverError } from "../../src/errors";
import { backoffDelay, classifySendError, isTransientError } from "../../src/queue/retryPolicy";

const backoff = { baseMs: 500, maxMs: 60_000 };

describe("retry policy", () => {
  it("honours a 429's Retry-After (already preferred over retry_after_ms by the client)", () => {
    expect(
      classifySendError(new MatrixHttpError(429, "M_LIMIT_EXCEEDED", "slow down", 1000), 0, backoff),
    ).toEqual({
      kind: "retry",
      delayMs: 1000,
      reason: "429 M_LIMIT_EXCEEDED",
    });
  });

  it("backs off 5xx and network errors with capped exponential jitter, parks other 4xx", () => {
    const outcome = classifySendError(new MatrixHttpError(502, "M_UNKNOWN", "bad gateway"), 3, backoff);
    expect(outcome.kind).toBe("retry");
    expect(classifySendError(new HomeserverError("ECONNREFUSED"), 0, backoff).kind).toBe("retry");
    expect(classifySendError(new MatrixHttpError(403, "M_FORBIDDEN", "no"), 0, backoff)).toEqual({
      kind: "park",
      code: "rejected",
      reason: "403 M_FORBIDDEN: no",
    });
    for (let attempt = 0; attempt < 40; attempt++) {
      const d = backoffDelay(attempt, backoff, () => 1);
      expect(d).toBeLessThanOrEqual(60_000);
      expect(backoffDelay(attempt, backoff, () => 0)).toBe(d / 2);
    }
  });

  it("tells transient failures (homeserver or database unavailable) from permanent ones", () => {
    const transient = [
      new HomeserverError("Cannot reach the homeserver"),
      new MatrixHttpError(503, "M_UNKNOWN", "down"),
      new MatrixHttpError(429, "M_LIMIT_EXCEEDED", "slow"),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      Object.assign(new Error("could not serialize access"), { code: "40001" }),
      new Error("Knex: Timeout acquiring a connection. The pool is probably full."),
      Object.assign(new Error("M_UNKNOWN"), { statusCode: 502 }),
      new Error("wrapped", { cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }) }),
    ];
    const permanent = [
      new MatrixHttpError(403, "M_FORBIDDEN", "not invited"),
      Object.assign(new Error("M_FORBIDDEN"), { statusCode: 403 }),
      Object.assign(new Error('duplicate key value violates unique constraint "x"'), { code: "23505" }),
      new TypeError("cannot read properties of undefined"),
    ];
    for (const err of transient) expect([err.message, isTransientError(err)]).toEqual([err.message, true]);
    for (const err of permanent) expect([err.message, isTransientError(err)]).toEqual([err.message, false]);
  });
});
