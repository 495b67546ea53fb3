import { mkdirSync } from "node:fs";
import path from "node:path";
import knexFactory, { type Knex } from "knex";
import ClientPgLite from "knex-pglite";
import { BridgeError, errorMessage } from "../errors";
import { moduleLogger } from "../logging/logger";
import { startPglite } from "./pgliteEngine";
import { chooseEngine } from "./embeddedEngine";
import { openSqliteKnex, SQLITE_FILE } from "./sqliteEngine";
import { scopeTransactions } from "./transactionScope";

const log = moduleLogger("store/database");

/** `data_dir` value that selects an in-memory embedded database (tests, demos). Nothing is written to disk. */
export const IN_MEMORY = ":memory:";

export { ENGINES, type Engine } from "./embeddedEngine";

export type Dialect = "postgres" | "pglite" | "sqlite";

/** How operators see each dialect (status, doctor). */
export const DIALECT_NAMES: Record<Dialect, string> = {
  postgres: "PostgreSQL",
  pglite: "embedded (PGlite)",
  sqlite: "embedded (SQLite)",
};

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /** Closes the pool (PostgreSQL) or shuts the embedded database down (PGlite). Safe to call twice. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… URL; when empty the embedded PGlite database in `data_dir` is used. */
  url?: string;
  /** PostgreSQL connection pool size (default 10). */
  pool_max?: number;
  /** Directory of the embedded database (`<data_dir>/bridge.sqlite` or `<data_dir>/pgdata`), or ":memory:". */
  data_dir: string;
  /** The embedded database: one of ENGINES (see embeddedEngine.ts); default "auto". */
  engine?: string;
}

/** A knex instance or a transaction: store methods that take one can join the caller's transaction. */
export type Queryable = Knex | Knex.Transaction;

/**
 * Opens the database and checks that it answers. Connection problems become a BridgeError with
 * code DATABASE_UNAVAILABLE; the URL's password never appears in messages or logs.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const url = opts.url?.trim();
  if (url) return openPostgres(url, opts.pool_max ?? 10);
  return chooseEngine(opts.engine ?? "auto", opts.data_dir) === "sqlite"
    ? openSqlite(opts.data_dir)
    : openPglite(opts.data_dir);
}

async function openSqlite(dataDir: string): Promise<Database> {
  const inMemory = dataDir === IN_MEMORY;
  const file = inMemory ? undefined : path.resolve(dataDir, SQLITE_FILE);
  const where = file ?? "memory";
  if (!inMemory) makeDir(path.resolve(dataDir), embeddedHint(dataDir));
  const started = Date.now();
  let knex: Knex;
  try {
    knex = await openSqliteKnex(
      file,
      knexLog((m) => m),
    );
  } catch (err) {
    if (err instanceof BridgeError) throw err;
    throw new BridgeError(
      "DATABASE_UNAVAILABLE",
      `Cannot open the embedded database (${where}): ${errorMessage(err)}`,
      embeddedHint(dataDir),
      { cause: err },
    );
  }
  log.info({ file: where, ms: Date.now() - started }, "opened embedded database (SQLite)");
  return wrap(knex, "sqlite");
}

function embeddedHint(dataDir: string): string {
  return (
    `Check that database.data_dir (${dataDir === IN_MEMORY ? IN_MEMORY : path.resolve(dataDir)}) is a writable directory ` +
    "not used by another bridge process, or set database.url to use PostgreSQL"
  );
}

function makeDir(dir: string, hint: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new BridgeError(
      "DATABASE_UNAVAILABLE",
      `Cannot create the embedded database directory ${dir}: ${errorMessage(err)}`,
      hint,
      { cause: err },
    );
  }
}

async function openPostgres(url: string, poolMax: number): Promise<Database> {
  const shown = maskUrl(url);
  const knex = knexFactory({
    client: "pg",
    connection: { connectionString: url, connectionTimeoutMillis: 10_000 },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 30_000,
    log: knexLog((m) => scrub(m, url)),
  });
  const started = Date.now();
  try {
    await knex.raw("select 1");
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    throw new BridgeError(
      "DATABASE_UNAVAILABLE",
      `Cannot connect to PostgreSQL at ${shown}: ${scrub(errorMessage(err), url)}`,
      "Check database.url (host, port, user, database name, password) and that PostgreSQL is running, " +
        "or leave database.url empty to use the embedded database in database.data_dir",
      { cause: err },
    );
  }
  log.info({ url: shown, ms: Date.now() - started }, "connected to PostgreSQL");
  return wrap(knex, "postgres");
}

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir === IN_MEMORY;
  const where = inMemory ? "memory" : path.resolve(dataDir, "pgdata");
  const hint = embeddedHint(dataDir);
  if (!inMemory) makeDir(where, hint);
  const started = Date.now();
  let knex: Knex | undefined;
  try {
    // Our own PGlite (tuned, durable, from the template when new): see pgliteEngine.ts.
    const pglite = await startPglite(inMemory ? undefined : where);
    knex = knexFactory({
      client: YieldingPgLite as unknown as typeof ClientPgLite,
      dialect: "postgres",
      connection: { pglite } as unknown as Knex.StaticConnectionConfig,
      log: knexLog((m) => m),
    });
    await knex.raw("select 1");
  } catch (err) {
    await knex?.destroy().catch(() => undefined);
    throw new BridgeError(
      "DATABASE_UNAVAILABLE",
      `Cannot open the embedded database (${where}): ${errorMessage(err)}`,
      hint,
      { cause: err },
    );
  }
  log.info({ dataDir: where, ms: Date.now() - started }, "opened embedded database (PGlite)");
  return wrap(knex, "pglite");
}

/**
 * PGlite runs in this thread and answers every query as a microtask: a transaction of twenty
 * statements would run as one uninterrupted chain, and timers, HTTP and other rooms would wait for
 * it. Each query first yields to the event loop, so no chain of queries blocks it.
 */
class YieldingPgLite extends (ClientPgLite as unknown as new (config: Knex.Config) => {
  _query(connection: unknown, obj: unknown): Promise<unknown>;
}) {
  override async _query(connection: unknown, obj: unknown): Promise<unknown> {
    await new Promise((resolve) => setImmediate(resolve));
    return super._query(connection, obj);
  }
}

function wrap(knex: Knex, dialect: Dialect): Database {
  let closing: Promise<void> | undefined;
  return {
    knex: scopeTransactions(knex),
    dialect,
    close() {
      closing ??= knex.destroy().then(() => log.debug({ dialect }, "database closed"));
      return closing;
    },
  };
}

/** Routes knex's own warnings (pool, migrations) to our logger instead of the console. */
function knexLog(clean: (message: string) => string): Knex.Logger {
  const text = (message: unknown): string =>
    clean(
      typeof message === "string" ? message : message instanceof Error ? message.message : String(message),
    );
  return {
    warn: (message: unknown) => log.warn({ knex: text(message) }, "knex warning"),
    error: (message: unknown) => log.error({ knex: text(message) }, "knex error"),
    deprecate: (method: string, alternative: string) => log.warn({ method, alternative }, "knex deprecation"),
    debug: (message: unknown) => log.debug({ knex: text(message) }, "knex debug"),
  };
}

/** The URL with its password (in the user-info part or a `password` query parameter) replaced by "***". */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    return parsed.toString();
  } catch {
    // Not parseable: mask anything between "user:" and "@" the crude way.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@").replace(/(password=)[^&]*/gi, "$1***");
  }
}

/** Removes the URL's password from a driver error message, should the driver ever echo it. */
function scrub(message: string, url: string): string {
  let password = "";
  try {
    const parsed = new URL(url);
    password = decodeURIComponent(parsed.password || parsed.searchParams.get("password") || "");
  } catch {
    password = "";
  }
  let out = message.split(url).join(maskUrl(url));
  if (password) out = out.split(password).join("***");
  return out;
}

/**
 * Number of rows a write affected. knex returns a number for update/delete on PostgreSQL, but
 * knex-pglite returns the raw result object for `.del()` (it reports the command as "DEL"), so
 * deletes go through this helper.
 */
export function affectedRows(result: unknown): number {
  if (typeof result === "number") return result;
  if (result && typeof result === "object") {
    const r = result as { rowCount?: unknown; affectedRows?: unknown };
    return Number(r.rowCount ?? r.affectedRows ?? 0);
  }
  return 0;
}

// PostgreSQL text and jsonb cannot hold U+0000 or unpaired UTF-16 surrogates, and Matrix events
// are user-controlled: one such character must not make a whole batch fail forever.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNSTORABLE_ESCAPE = /\\u(0000|d[89a-f])/i;

/** A string PostgreSQL accepts: U+0000 and lone surrogates become U+FFFD. */
export function storableText(value: string): string {
  return value.replace(UNSTORABLE, "\uFFFD");
}

function storableValue(value: unknown): unknown {
  if (typeof value === "string") return storableText(value);
  if (Array.isArray(value)) return value.map(storableValue);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableValue(v)]));
  }
  return value;
}

/**
 * Serialises a value for a jsonb column. Always pass a string: node-postgres would turn a JS
 * array into a PostgreSQL array literal, and PGlite and pg treat objects differently.
 */
export function toJsonb(value: unknown): string {
  const json = JSON.stringify(value) ?? "null";
  return UNSTORABLE_ESCAPE.test(json) ? JSON.stringify(storableValue(JSON.parse(json))) : json;
}
