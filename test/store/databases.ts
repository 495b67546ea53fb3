import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { openDatabase, IN_MEMORY, type Database } from "../../src/store/database";
import { migrate } from "../../src/store/migrations";
import { truncate } from "../support/truncate";

export { truncate };

/**
 * The store suites run on every backend: the embedded databases (SQLite and PGlite, in memory) and
 * a real PostgreSQL server (a fresh database per suite). PostgreSQL is required: when it is down the
 * suites fail with a message saying so, they are never skipped.
 */
export const DEFAULT_PG_SERVER_URL = "postgres://postgres@127.0.0.1:5432";

export function pgServerUrl(): string {
  return process.env.MAB_TEST_PG_URL || DEFAULT_PG_SERVER_URL;
}

export interface TestBackend {
  name: "sqlite" | "pglite" | "postgres";
  /** Opens a fresh, empty database (not migrated). Close it with `closeTestDatabase`. */
  open(): Promise<Database>;
}

export const BACKENDS: TestBackend[] = [
  { name: "sqlite", open: () => openDatabase({ data_dir: IN_MEMORY, engine: "sqlite" }) },
  { name: "pglite", open: () => openDatabase({ data_dir: IN_MEMORY, engine: "pglite" }) },
  { name: "postgres", open: () => openPostgresTestDatabase() },
];

/** For describe.each: `describe.each(backendCases())("Inbox on %s", (_name, backend) => …)`. */
export function backendCases(): [string, TestBackend][] {
  return BACKENDS.map((b) => [b.name, b]);
}

const cleanups = new WeakMap<Database, () => Promise<void>>();

/** URL of `database` on the test server (keeps user, password, host, port and query). */
function databaseUrl(server: string, database: string): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

function masked(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

async function adminClient(): Promise<Client> {
  const server = pgServerUrl();
  const client = new Client({
    connectionString: databaseUrl(server, "postgres"),
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL test server ${masked(server)} is unreachable (${(err as Error).message}). ` +
        "The store tests need it: start PostgreSQL on 127.0.0.1:5432 (trust auth) or set MAB_TEST_PG_URL " +
        "to a server URL such as postgres://user:password@host:5432",
    );
  }
  return client;
}

/** Creates `mab_test_<random>` on the test server and opens it; `closeTestDatabase` drops it. */
export async function openPostgresTestDatabase(): Promise<Database> {
  const name = `mab_test_${randomBytes(6).toString("hex")}`;
  const admin = await adminClient();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const db = await openDatabase({ url: databaseUrl(pgServerUrl(), name), data_dir: "unused" });
  cleanups.set(db, async () => {
    const client = await adminClient();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });
  return db;
}

/** Opens a database and applies the core migrations. */
export async function openMigrated(backend: TestBackend): Promise<Database> {
  const db = await backend.open();
  try {
    await migrate(db);
  } catch (err) {
    await closeTestDatabase(db);
    throw err;
  }
  return db;
}

/** Closes the database; a PostgreSQL test database is dropped too. */
export async function closeTestDatabase(db: Database | undefined): Promise<void> {
  if (!db) return;
  await db.close();
  const cleanup = cleanups.get(db);
  cleanups.delete(db);
  if (cleanup) await cleanup();
}

/** Empties the core tables (and restarts their sequences) between tests. */
export async function resetTables(db: Database): Promise<void> {
  await truncate(db, ["bridge_rooms", "inbound_events", "outbox", "agent_profiles"]);
}

/** A temporary directory for a file-backed PGlite database; call `remove()` when done. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "mab-store-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
