import { randomBytes } from "node:crypto";
import { Client } from "pg";

/** The PostgreSQL server the benchmarks (and the store tests) use: trust auth on loopback by default. */
export function pgServerUrl(): string {
  return process.env.MAB_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432";
}

function withDatabase(server: string, database: string): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: withDatabase(pgServerUrl(), "postgres"),
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL at ${pgServerUrl()} is unreachable (${(err as Error).message}): the benchmarks need it ` +
        "(trust auth on 127.0.0.1:5432, or set MAB_TEST_PG_URL)",
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ThrowawayDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates `mab_bench_<random>`; `drop()` removes it (forcing out leftover connections). */
export async function createThrowawayDatabase(): Promise<ThrowawayDatabase> {
  const name = `mab_bench_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  return {
    name,
    url: withDatabase(pgServerUrl(), name),
    drop: async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

/** "PostgreSQL 15.4 (Debian …)" → "15.4". */
export async function postgresVersion(): Promise<string> {
  return admin(async (c) => {
    const res = await c.query<{ server_version: string }>("SHOW server_version");
    return res.rows[0]?.server_version ?? "unknown";
  });
}
