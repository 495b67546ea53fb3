import type { MatrixEvent } from "../agents/types";

/**
 * Validation at the door: each event of a pushed transaction is checked before anything stores
 * it. A room member controls most of an event, and one event the store cannot take (nested 5,000
 * levels deep, an empty or NUL-carrying id) used to fail the whole transaction on every retry and
 * block the homeserver's queue for us for ever. Now such an event is rejected alone, with its
 * reason, and the others are recorded. Ids are kept exactly as received or the event is rejected:
 * never altered, so two different ids can never be merged into one.
 */

export type RejectReason =
  | "not_an_object"
  | "bad_event_id"
  | "bad_room_id"
  | "bad_type"
  | "bad_sender"
  | "bad_state_key"
  | "bad_content"
  | "too_deep"
  | "too_large";

export interface Rejection {
  /** The event id when it is a printable string (shortened), for the log line. */
  eventId?: string;
  reason: RejectReason;
  detail: string;
}

export type Validated = { ok: true; event: MatrixEvent } | { ok: false; rejection: Rejection };

/** Matrix ids are at most 255 bytes; we allow that many characters. */
const MAX_ID_LENGTH = 255;
/** Nesting levels of a whole event (Synapse's own events stay far below). */
export const MAX_EVENT_DEPTH = 32;
/** Serialized size of a whole event. Synapse refuses events over 64 KiB; unsigned data adds some. */
export const MAX_EVENT_BYTES = 256 * 1024;

// eslint-disable-next-line no-control-regex -- control characters are what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

function badId(value: unknown, sigil: string | undefined): string | undefined {
  if (typeof value !== "string") return `expected a string, got ${value === null ? "null" : typeof value}`;
  if (value.length === 0) return "empty";
  if (value.length > MAX_ID_LENGTH) return `longer than ${MAX_ID_LENGTH} characters`;
  if (!value.isWellFormed()) return "not valid Unicode (lone surrogate)";
  if (CONTROL.test(value)) return "contains a control character";
  if (sigil && !value.startsWith(sigil)) return `does not start with '${sigil}'`;
  return undefined;
}

function printable(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const cut = value.slice(0, 80);
  return cut.isWellFormed() && !CONTROL.test(cut) ? cut : JSON.stringify(cut).slice(1, -1);
}

/**
 * Walks a parsed JSON value iteratively (a recursive walk is what a hostile event would
 * overflow): "deep" as soon as it nests more than `depthLimit` levels, "large" as soon as its
 * serialized size certainly passes `byteLimit` (counted as it goes: string lengths, UTF-8 aware,
 * plus a little per value; cheaper than serializing the event just to measure it).
 */
export function measure(value: unknown, depthLimit: number, byteLimit = Infinity): "ok" | "deep" | "large" {
  // Two parallel stacks rather than a [value, depth] pair per value: this runs for every event
  // of every push, and the pairs (and Object.entries' arrays) were most of its garbage.
  const values: unknown[] = [value];
  const depths: number[] = [1];
  let bytes = 0;
  while (values.length) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === "string") bytes += Buffer.byteLength(v) + 2;
    else bytes += 4;
    if (bytes > byteLimit) return "large";
    if (v === null || typeof v !== "object") continue;
    if (depth > depthLimit) return "deep";
    if (Array.isArray(v)) {
      for (const child of v) {
        values.push(child);
        depths.push(depth + 1);
      }
    } else {
      const record = v as Record<string, unknown>;
      for (const key in record) {
        if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
        bytes += key.length + 4;
        values.push(record[key]);
        depths.push(depth + 1);
      }
    }
  }
  return "ok";
}

export function exceedsDepth(value: unknown, limit: number): boolean {
  return measure(value, limit) === "deep";
}

export function validateEvent(raw: unknown): Validated {
  const reject = (reason: RejectReason, detail: string): Validated => ({
    ok: false,
    rejection: { eventId: printable((raw as { event_id?: unknown } | null)?.event_id), reason, detail },
  });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return reject("not_an_object", "not an object");
  const e = raw as Record<string, unknown>;
  const checks: [RejectReason, string, string | undefined][] = [
    ["bad_event_id", "event_id", badId(e.event_id, "$")],
    ["bad_room_id", "room_id", badId(e.room_id, "!")],
    ["bad_type", "type", badId(e.type, undefined)],
    ["bad_sender", "sender", badId(e.sender, "@")],
  ];
  for (const [reason, field, problem] of checks) if (problem) return reject(reason, `${field} ${problem}`);
  if (e.state_key !== undefined) {
    if (typeof e.state_key !== "string" || e.state_key.length > MAX_ID_LENGTH || !e.state_key.isWellFormed())
      return reject("bad_state_key", "state_key is not a string of at most 255 characters");
  }
  if (e.content === null || typeof e.content !== "object" || Array.isArray(e.content))
    return reject("bad_content", "content is not an object");
  if (exceedsDepth(e, MAX_EVENT_DEPTH))
    return reject("too_deep", `nested deeper than ${MAX_EVENT_DEPTH} levels`);
  const size = Buffer.byteLength(JSON.stringify(e));
  if (size > MAX_EVENT_BYTES) return reject("too_large", `${size} bytes, more than ${MAX_EVENT_BYTES}`);
  return { ok: true, event: e as unknown as MatrixEvent };
}

/** Splits a transaction's `events` into those we record and those we reject (with why). */
export function validateEvents(raw: readonly unknown[]): { events: MatrixEvent[]; rejected: Rejection[] } {
  const events: MatrixEvent[] = [];
  const rejected: Rejection[] = [];
  for (const item of raw) {
    const result = validateEvent(item);
    if (result.ok) events.push(result.event);
    else rejected.push(result.rejection);
  }
  return { events, rejected };
}
