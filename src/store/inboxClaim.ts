import type { Knex } from "knex";
import { BridgeError } from "../errors";
import { moduleLogger } from "../logging/logger";
import { faultPoint } from "../faultPoints";
import { storableText, toJsonb, type Queryable } from "./database";
import type { InboundEvent, InboundStatus } from "./inbox";
import { isSqlite, SQLITE_NOW_MS } from "./sqlDialect";

const log = moduleLogger("store/inbox-claim");

/** Retries of a claim that PostgreSQL aborted as a deadlock victim. */
const DEADLOCK_RETRIES = 5;

interface ClaimRow {
  event_id: string;
  room_id: string | null;
  event_type: string | null;
  sender: string | null;
  payload: string;
  status: InboundStatus;
  seq?: number;
}

export interface ClaimOptions {
  /**
   * Events nobody will act on (our own echoes, ordinary chat): recorded as handled in the claim
   * statement itself, so they cost no transaction of their own, and still dedupe replays.
   */
  inert?: ReadonlySet<string>;
  /**
   * Events handled inside the claim's transaction (see inlineHandling.ts): recorded as handled
   * like inert ones; `inClaim` is told which of them are new, and handles those.
   */
  inline?: ReadonlySet<string>;
  /** Runs inside the claim's transaction (other durable parts of the same push). */
  inClaim?(trx: Knex.Transaction, newInline: string[]): Promise<void>;
}

export interface ClaimResult {
  /** Newly claimed events to handle, in input order. */
  toHandle: string[];
  /** Newly recorded inert events (already marked handled). */
  ignored: string[];
  /** Newly claimed events of `inline`, handled in the claim's transaction. */
  inlined: string[];
}

/**
 * Rows per INSERT. Far below PostgreSQL's 65535 bind parameters (7 per row); SQLite builds a
 * multi-row INSERT from a compound SELECT, which it caps at 500 terms.
 */
const CLAIM_CHUNK = 1000;
const SQLITE_CLAIM_CHUNK = 400;

function optionalText(value: unknown): string | null {
  return typeof value === "string" ? storableText(value) : null;
}

function isDeadlock(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "40P01";
}

/**
 * Claims events in one transaction (see Inbox.claim): inert ones recorded as handled in the same
 * statements, `opts.inClaim` in the same transaction. Ids are stored exactly as given, or refused.
 */
export async function claimEvents(
  knex: Knex,
  events: InboundEvent[],
  opts: ClaimOptions = {},
): Promise<ClaimResult> {
  const rows = new Map<string, ClaimRow>();
  for (const event of events) {
    const eventId = event?.event_id;
    if (typeof eventId !== "string" || eventId === "" || storableText(eventId) !== eventId) {
      throw new BridgeError("INVALID_EVENT", "Cannot claim an event without a storable event_id");
    }
    if (rows.has(eventId)) continue;
    const inert = opts.inert?.has(eventId) === true || opts.inline?.has(eventId) === true;
    rows.set(eventId, {
      event_id: eventId,
      room_id: optionalText(event.room_id),
      event_type: optionalText(event.type),
      sender: optionalText(event.sender),
      payload: toJsonb(event),
      status: inert ? "handled" : "claimed",
    });
  }
  const all = [...rows.values()];
  if (all.length === 0 && !opts.inClaim) return { toHandle: [], ignored: [], inlined: [] };
  for (let attempt = 1; ; attempt++) {
    try {
      const claimed = await knex.transaction(async (trx) => {
        const ids = new Set<string>();
        const chunk = isSqlite(trx) ? SQLITE_CLAIM_CHUNK : CLAIM_CHUNK;
        for (let i = 0; i < all.length; i += chunk) {
          for (const id of await insertChunk(trx, all.slice(i, i + chunk))) ids.add(id);
        }
        await opts.inClaim?.(
          trx,
          [...rows.keys()].filter((id) => ids.has(id) && opts.inline?.has(id) === true),
        );
        faultPoint("before-claim-commit");
        return ids;
      });
      const toHandle: string[] = [];
      const ignored: string[] = [];
      const inlined: string[] = [];
      for (const [id, row] of rows) {
        if (!claimed.has(id)) continue;
        if (row.status === "claimed") toHandle.push(id);
        else (opts.inline?.has(id) ? inlined : ignored).push(id);
      }
      return { toHandle, ignored, inlined };
    } catch (err) {
      // Should not happen given the ordering (see insertChunk); the transaction was rolled back
      // as a whole, so retrying cannot claim anything twice.
      if (!isDeadlock(err) || attempt >= DEADLOCK_RETRIES) throw err;
      log.warn({ attempt, rows: all.length }, "deadlock while claiming events; retrying");
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/**
 * Inserts one chunk. Concurrent multi-row INSERT … ON CONFLICT statements over overlapping ids
 * deadlock when they insert the ids in different orders, so rows are inserted sorted by
 * event_id; their seq numbers are drawn from the sequence first, in input order, so that
 * `unhandled()` still replays a batch in the order it arrived.
 */
async function insertChunk(trx: Knex.Transaction, chunk: ClaimRow[]): Promise<string[]> {
  let rows = chunk;
  // SQLite has a single writer (no deadlock to avoid): rows go in input order and are numbered so.
  if (rows.length > 1 && !isSqlite(trx)) {
    const seqs = await allocateSeqs(trx, rows.length);
    rows = rows
      .map((row, i) => ({ ...row, seq: seqs[i] }))
      .sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
  }
  const withSeq = rows[0]?.seq !== undefined;
  const bindings: unknown[] = [];
  for (const row of rows) {
    bindings.push(row.event_id, row.room_id, row.event_type, row.sender, row.payload, row.status, row.status);
    if (withSeq) bindings.push(row.seq);
  }
  const result = await trx.raw<{ rows: { event_id: string }[] }>(
    claimStatement(rows.length, withSeq, isSqlite(trx)),
    bindings as Knex.RawBinding[],
  );
  return result.rows.map((r) => r.event_id);
}

const CLAIM_COLUMNS = "event_id, room_id, event_type, sender, payload, status, handled_at";
const claimStatements = new Map<string, string>();

/**
 * The claim's INSERT for `n` rows, written here rather than by knex's query builder: building a
 * 100-row insert of 700 values was a third of the CPU an ordinary chat event costs (the inbound
 * bench's "inert chat"), and the text is the same for every push of that size, so it is made once.
 * `handled_at` is the database's clock for rows recorded as handled (their status is bound twice).
 */
function claimStatement(n: number, withSeq: boolean, sqlite: boolean): string {
  const key = `${n}:${withSeq}:${sqlite}`;
  let sql = claimStatements.get(key);
  if (sql === undefined) {
    const now = sqlite ? SQLITE_NOW_MS : "now()";
    const row = `(?, ?, ?, ?, ?, ?, CASE ? WHEN 'handled' THEN ${now} END${withSeq ? ", ?" : ""})`;
    sql =
      `INSERT INTO inbound_events (${CLAIM_COLUMNS}${withSeq ? ", seq" : ""}) VALUES ` +
      Array.from({ length: n }, () => row).join(", ") +
      " ON CONFLICT (event_id) DO NOTHING RETURNING event_id";
    claimStatements.set(key, sql);
  }
  return sql;
}

/** `n` fresh values of inbound_events.seq, ascending. */
async function allocateSeqs(db: Queryable, n: number): Promise<number[]> {
  const result = await db.raw<{ rows: { seq: string | number }[] }>(
    "SELECT nextval(pg_get_serial_sequence('inbound_events', 'seq')) AS seq FROM generate_series(1, ?::int)",
    [n],
  );
  return result.rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
}
