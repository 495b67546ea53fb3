import type { Database } from "../../src/store/database";

/**
 * Empties `tables` (in the order given: parents before the rows that reference them cascade) and
 * restarts their auto-numbering, on every database (SQLite has no TRUNCATE).
 */
export async function truncate(db: Database, tables: string[]): Promise<void> {
  if (db.dialect !== "sqlite") {
    await db.knex.raw(`TRUNCATE ${tables.join(", ")} RESTART IDENTITY CASCADE`);
    return;
  }
  for (const table of tables) await db.knex(table).del();
  const numbered = await db.knex.raw<{ rows: unknown[] }>(
    "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'",
  );
  if (numbered.rows.length > 0) await db.knex("sqlite_sequence").whereIn("name", tables).del();
}
