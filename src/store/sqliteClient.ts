import type { Knex } from "knex";
import type * as NodeSqlite from "node:sqlite";
import { SQLITE_DRIVER, SQLITE_NOW_MS } from "./sqlDialect";
import { ShimConnection } from "./sqliteDriver";

/* eslint-disable @typescript-eslint/no-require-imports -- knex's dialect classes have no typings */
type AnyFn = (...args: unknown[]) => unknown;
interface BaseClient {
  connectionSettings: { filename: string };
  raw(...args: unknown[]): unknown;
  _formatBindings(bindings: unknown[] | undefined): unknown[];
  _query(connection: unknown, obj: unknown): Promise<unknown>;
  processResponse(
    obj: { method?: string; response?: unknown; context?: { changes?: number } },
    runner: unknown,
  ): unknown;
}
const BetterSqlite3Client = require("knex/lib/dialects/better-sqlite3") as new (
  config: Knex.Config,
) => BaseClient;
const SqliteQueryCompiler = require("knex/lib/dialects/sqlite3/query/sqlite-querycompiler") as new (
  ...args: unknown[]
) => Record<string, AnyFn>;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * node:sqlite prints "ExperimentalWarning: SQLite is an experimental feature" when first loaded
 * (Node 22). Users cannot act on it and it would open every log, so exactly that warning is
 * dropped while the module loads; every other warning goes through.
 */
export function loadNodeSqlite(): typeof NodeSqlite {
  const original = process.emitWarning;
  process.emitWarning = function emitWarning(this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === "string" ? warning : warning.message;
    if (type === "ExperimentalWarning" && text.startsWith("SQLite is an experimental feature")) return;
    return (original as AnyFn).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return require("node:sqlite") as typeof NodeSqlite; // eslint-disable-line @typescript-eslint/no-require-imports
  } finally {
    process.emitWarning = original;
  }
}

/** What this Node offers: node:sqlite itself (22.5+) and StatementSync.columns() (22.16+). */
export function nodeSqliteMissing(): string | undefined {
  missing ??= { what: probeNodeSqlite() };
  return missing.what;
}
let missing: { what: string | undefined } | undefined;

function probeNodeSqlite(): string | undefined {
  try {
    const { DatabaseSync } = loadNodeSqlite();
    const probe = new DatabaseSync(":memory:");
    try {
      if (typeof probe.prepare("select 1").columns !== "function")
        return "StatementSync.columns() (Node 22.16+)";
    } finally {
      probe.close();
    }
    return undefined;
  } catch {
    return "the node:sqlite module (Node 22.5+)";
  }
}

/**
 * The one-connection settings. WAL with synchronous=FULL: every commit is fsynced before it is
 * acknowledged (the homeserver is told "stored" only after that). locking_mode=EXCLUSIVE: the
 * first write takes the file lock and keeps it until close, so a second process on the same file
 * fails at open instead of sharing it (and WAL needs no shared-memory file). busy_timeout=0: that
 * failure is immediate.
 */
const PRAGMAS = [
  "PRAGMA busy_timeout = 0",
  "PRAGMA locking_mode = EXCLUSIVE",
  "PRAGMA journal_mode = WAL",
  "PRAGMA synchronous = FULL",
  "PRAGMA foreign_keys = ON",
];

/**
 * node:sqlite answers in this thread, synchronously: a chain of queries (a scheduler pass firing
 * sixty items, a batch of events) would run as one uninterrupted run of promise callbacks, and
 * timers, HTTP, signals (SIGTERM) would wait for all of it. A query that comes more than
 * YIELD_AFTER_MS after the event loop last turned first lets it turn. Short chains, the usual
 * case, pay nothing.
 */
const YIELD_AFTER_MS = 2;
let loopTurned = true;
let stretchStarted = 0;

async function letTheLoopTurn(): Promise<void> {
  if (loopTurned) {
    loopTurned = false;
    stretchStarted = performance.now();
    setImmediate(() => {
      loopTurned = true;
    });
    return;
  }
  if (performance.now() - stretchStarted < YIELD_AFTER_MS) return;
  await new Promise((resolve) => setImmediate(resolve));
}

/** SQLite's query compiler, with what row locks mean on a database that has a single writer. */
class NodeSqliteQueryCompiler extends SqliteQueryCompiler {
  constructor(...args: unknown[]) {
    super(...args);
    // One connection per process and an exclusive file lock: no row is ever locked by anyone
    // else, so FOR UPDATE (already dropped by knex for SQLite), SKIP LOCKED and NOWAIT have
    // nothing to do. knex would throw for the latter two.
    this.skipLocked = () => "";
    this.noWait = () => "";
    // knex's SQLite compiler drops .returning() on DELETE; SQLite (3.35+) has DELETE … RETURNING.
    const del = this.del.bind(this);
    this.del = () => {
      const sql = del() as string;
      const returning = (this.single as unknown as { returning?: unknown }).returning;
      return returning ? { sql: sql + (this._returning(returning) as string), returning } : sql;
    };
  }
}

/**
 * knex's better-sqlite3 client on Node's built-in node:sqlite (no native build). Differences
 * from it, each to give the stores what they get on PostgreSQL:
 * - `knex.fn.now()` is a millisecond timestamp like the ones knex binds for Dates (knex's own
 *   CURRENT_TIMESTAMP is text in seconds, which would not compare with them);
 * - `knex.raw()` resolves to `{ rows, rowCount }` as node-postgres does;
 * - skipLocked() and noWait() compile to nothing (see NodeSqliteQueryCompiler).
 */
export class NodeSqliteClient extends BetterSqlite3Client {
  _driver(): typeof NodeSqlite {
    return loadNodeSqlite();
  }

  async acquireRawConnection(): Promise<ShimConnection> {
    const { DatabaseSync } = loadNodeSqlite();
    const db = new DatabaseSync(this.connectionSettings.filename);
    try {
      for (const pragma of PRAGMAS) db.exec(pragma);
      // Take the exclusive lock now: a database another process holds fails here, clearly.
      db.exec("BEGIN IMMEDIATE; COMMIT");
    } catch (err) {
      db.close();
      throw err;
    }
    return new ShimConnection(db);
  }

  override async _query(connection: unknown, obj: unknown): Promise<unknown> {
    await letTheLoopTurn();
    return super._query(connection, obj);
  }

  async destroyRawConnection(connection: ShimConnection): Promise<void> {
    connection.close();
  }

  queryCompiler(builder: unknown, formatter: unknown): unknown {
    return new NodeSqliteQueryCompiler(this, builder, formatter);
  }

  /** knex's Date and boolean forms, and NULL for what knex leaves undefined (node:sqlite refuses it). */
  override _formatBindings(bindings: unknown[] | undefined): unknown[] {
    return super._formatBindings(bindings).map((b) => (b === undefined ? null : b));
  }

  override raw(...args: unknown[]): unknown {
    if (args[0] === "CURRENT_TIMESTAMP") args[0] = SQLITE_NOW_MS;
    return super.raw(...args);
  }

  override processResponse(
    obj: { method?: string; response?: unknown; context?: { changes?: number } },
    runner: unknown,
  ): unknown {
    // DELETE … RETURNING: the rows, as on PostgreSQL (knex's SQLite client returns the count).
    if (obj.method === "del" && (obj as { returning?: unknown }).returning && Array.isArray(obj.response)) {
      return obj.response;
    }
    if (obj.method === "raw") {
      const rows = Array.isArray(obj.response) ? obj.response : [];
      return { rows, rowCount: Array.isArray(obj.response) ? rows.length : (obj.context?.changes ?? 0) };
    }
    return super.processResponse(obj, runner);
  }
}

Object.assign(NodeSqliteClient.prototype, { driverName: SQLITE_DRIVER });
