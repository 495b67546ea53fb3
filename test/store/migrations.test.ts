import type { Knex } from "knex";
import { BridgeError } from "../../src/errors";
import type { Database } from "../../src/store/database";
import { MIGRATION_TABLE, migrate, type MigrationSet } from "../../src/store/migrations";
import { backendCases, closeTestDatabase } from "./databases";
import { coreMigrations } from "../../migrations";
import { isSqlite } from "../../src/store/sqlDialect";

/** Every core migration, in the order they must run. */
const CORE_NAMES = coreMigrations.map((m) => `core/${m.name}`);

const CORE_TABLES = ["agent_devices", "agent_profiles", "bridge_rooms", "inbound_events", "outbox"];

async function tables(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { table_name: string }[] }>(
    isSqlite(knex)
      ? "select name as table_name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"
      : "select table_name from information_schema.tables where table_schema = current_schema() order by table_name",
  );
  return result.rows.map((r) => r.table_name);
}

function pluginSet(owner: string, calls: string[]): MigrationSet {
  return {
    owner,
    migrations: [
      {
        name: "001_notes",
        async up(k) {
          calls.push(`${owner}/001_notes`);
          await k.schema.createTable(`${owner}_notes`, (t) => {
            t.text("id").primary();
            t.text("body").notNullable();
          });
        },
        async down(k) {
          await k.schema.dropTable(`${owner}_notes`);
        },
      },
      {
        name: "002_index",
        async up(k) {
          calls.push(`${owner}/002_index`);
          await k.schema.alterTable(`${owner}_notes`, (t) => t.index(["body"]));
        },
      },
    ],
  };
}

describe.each(backendCases())("migrations on %s", (_name, backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });

  it("applies the core schema once; a second run is a no-op", async () => {
    expect(await migrate(db)).toEqual({
      applied: CORE_NAMES,
    });
    expect(await tables(db.knex)).toEqual(expect.arrayContaining([...CORE_TABLES, MIGRATION_TABLE]));
    expect(await migrate(db)).toEqual({ applied: [] });
    const recorded = await db.knex(MIGRATION_TABLE).select("name");
    expect(recorded.map((r: { name: string }) => r.name)).toEqual(CORE_NAMES);
  });

  it("applies plugin migration sets after core, in order, once", async () => {
    const calls: string[] = [];
    const sets = [pluginSet("reminders", calls), pluginSet("faq", calls)];
    expect(await migrate(db, sets)).toEqual({
      applied: ["reminders/001_notes", "reminders/002_index", "faq/001_notes", "faq/002_index"],
    });
    expect(calls).toEqual(["reminders/001_notes", "reminders/002_index", "faq/001_notes", "faq/002_index"]);
    expect(await migrate(db, sets)).toEqual({ applied: [] });
    expect(calls).toHaveLength(4);
    await db.knex("faq_notes").insert({ id: "1", body: "hello" });
    expect(await db.knex("faq_notes").select()).toEqual([{ id: "1", body: "hello" }]);
  });

  it("tolerates recorded migrations of a set that is no longer passed", async () => {
    expect(await migrate(db)).toEqual({ applied: [] });
    expect(await migrate(db, [pluginSet("reminders", [])])).toEqual({ applied: [] });
  });

  it("adds new migrations of an existing set", async () => {
    const calls: string[] = [];
    const set = pluginSet("faq", calls);
    set.migrations.push({
      name: "003_column",
      async up(k) {
        await k.schema.alterTable("faq_notes", (t) => t.text("author"));
      },
    });
    expect(await migrate(db, [set])).toEqual({ applied: ["faq/003_column"] });
    expect(calls).toEqual([]);
  });

  it("rolls back a failing batch and reports MIGRATION_FAILED", async () => {
    const set: MigrationSet = {
      owner: "broken",
      migrations: [
        { name: "001_ok", up: (k) => k.schema.createTable("broken_ok", (t) => t.text("id")) },
        {
          name: "002_fails",
          async up(k) {
            await k.raw("select * from no_such_table");
          },
        },
      ],
    };
    const err = await migrate(db, [set]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe("MIGRATION_FAILED");
    expect(await db.knex.schema.hasTable("broken_ok")).toBe(false);
    const names = (await db.knex(MIGRATION_TABLE).select("name")).map((r: { name: string }) => r.name);
    expect(names.some((n: string) => n.startsWith("broken/"))).toBe(false);
    // The lock was released: a later run still works.
    expect(await migrate(db)).toEqual({ applied: [] });
  });

  it("rejects invalid sets", async () => {
    const noop = async (): Promise<void> => undefined;
    await expect(migrate(db, [{ owner: "core", migrations: [] }])).rejects.toMatchObject({
      code: "MIGRATION_INVALID",
    });
    await expect(migrate(db, [{ owner: "a/b", migrations: [] }])).rejects.toMatchObject({
      code: "MIGRATION_INVALID",
    });
    await expect(
      migrate(db, [
        {
          owner: "dup",
          migrations: [
            { name: "x", up: noop },
            { name: "x", up: noop },
          ],
        },
      ]),
    ).rejects.toMatchObject({ code: "MIGRATION_INVALID" });
  });
});
