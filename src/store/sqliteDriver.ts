import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * A thin shim that makes Node's built-in `node:sqlite` look like the part of better-sqlite3 that
 * knex's better-sqlite3 client uses (prepare → reader / all / run), and that reads values back
 * the way node-postgres does, so the stores see the same row shapes on every database:
 * `timestamptz` columns become Dates (stored as milliseconds), `boolean` true/false (stored 1/0),
 * `jsonb` parsed JSON (stored as text), `bytea` Buffers. Types are the columns' declared types
 * (StatementSync.columns(), which also covers RETURNING); computed values (count, min) have none
 * and come back as stored.
 */

type Decode = (value: unknown) => unknown;

function toDate(value: unknown): unknown {
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  if (typeof value === "string") return new Date(/^\d+$/.test(value) ? Number(value) : value);
  return value;
}

function toBoolean(value: unknown): unknown {
  return value === null ? null : value === 1 || value === 1n || value === true;
}

function toJson(value: unknown): unknown {
  // The column's NUMERIC affinity stores the text of a bare JSON number as that number.
  return typeof value === "string" ? JSON.parse(value) : value;
}

function toBuffer(value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

const DECODERS: Record<string, Decode> = {
  timestamptz: toDate,
  timestamp: toDate,
  boolean: toBoolean,
  jsonb: toJson,
  json: toJson,
  bytea: toBuffer,
};

type Row = Record<string, unknown>;

/** better-sqlite3's Statement, as knex uses it. */
export class ShimStatement {
  readonly reader: boolean;
  private readonly decoders: [string, Decode][];

  constructor(private readonly statement: StatementSync) {
    const columns = statement.columns();
    this.reader = columns.length > 0;
    this.decoders = [];
    for (const c of columns) {
      const decode = c.type ? DECODERS[c.type.toLowerCase()] : undefined;
      if (decode) this.decoders.push([c.name, decode]);
    }
  }

  /** knex asks for this only when a query sets safeIntegers; numbers are always plain here. */
  safeIntegers(): this {
    return this;
  }

  all(bindings: unknown[]): Row[] {
    const rows = this.statement.all(...(bindings as never[])) as Row[];
    if (this.decoders.length === 0) return rows;
    for (const row of rows) {
      for (const [name, decode] of this.decoders) row[name] = decode(row[name]);
    }
    return rows;
  }

  run(bindings: unknown[]): { changes: number; lastInsertRowid: number } {
    const result = this.statement.run(...(bindings as never[]));
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }
}

/** Statements kept prepared per connection: the store sends the same few dozen SQL texts again and again. */
const CACHE_SIZE = 256;
/**
 * …but a prepared statement holds SQLite memory in proportion to its text (a 100-row INSERT about
 * 85 KB), and multi-row statements come in one text per row count (1 to 100 rows of a push, IN
 * lists of every length). Bounded by count alone, the cache filled with those and the process
 * grew ~15 MB over 100k events (BENCHMARKS.md, scaling); bounded by text as well, it holds the
 * few big shapes that recur and re-prepares the rare ones. Texts above a quarter of the budget are
 * not kept at all.
 */
export const CACHE_TEXT_BUDGET = 128 * 1024;
const DDL = /^\s*(create|alter|drop)\b/i;

/** better-sqlite3's Database, as knex uses it: prepare() and close(). */
export class ShimConnection {
  private readonly cache = new Map<string, ShimStatement>();
  private cachedText = 0;
  private closed = false;

  constructor(readonly db: DatabaseSync) {}

  prepare(sql: string): ShimStatement {
    const hit = this.cache.get(sql);
    if (hit) {
      // Most recently used last, so the oldest entry is the one evicted.
      this.cache.delete(sql);
      this.cache.set(sql, hit);
      return hit;
    }
    // A schema change can change what `SELECT *` returns: decoders are computed again.
    if (DDL.test(sql)) {
      this.clearCache();
      return new ShimStatement(this.db.prepare(sql));
    }
    const statement = new ShimStatement(this.db.prepare(sql));
    if (sql.length > CACHE_TEXT_BUDGET / 4) return statement;
    this.cache.set(sql, statement);
    this.cachedText += sql.length;
    while (this.cache.size > CACHE_SIZE || this.cachedText > CACHE_TEXT_BUDGET) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
      this.cachedText -= oldest.length;
    }
    return statement;
  }

  /** Statements and text held now (tests). */
  get cached(): { statements: number; text: number } {
    return { statements: this.cache.size, text: this.cachedText };
  }

  private clearCache(): void {
    this.cache.clear();
    this.cachedText = 0;
  }

  close(): void {
    this.clearCache();
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
