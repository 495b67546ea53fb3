import fs, { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "../../src/store/database";
import { migrate, MIGRATION_TABLE } from "../../src/store/migrations";
import { PGLITE_SETTINGS } from "../../src/store/pgliteEngine";
import { seedFromTemplate } from "../../src/store/pgliteTemplate";
import { buildTemplate } from "../../scripts/buildDbTemplate";
import { coreMigrations } from "../../migrations";
import { tempDataDir } from "./databases";

describe("the embedded database engine", () => {
  it("runs with fsync on and its small settings, and really syncs the WAL file at each commit", async () => {
    const tmp = tempDataDir();
    const db = await openDatabase({ data_dir: tmp.dir, engine: "pglite" });
    const spy = jest.spyOn(fs, "fdatasyncSync");
    try {
      const show = async (name: string) =>
        ((await db.knex.raw(`show ${name}`)) as { rows: Record<string, string>[] }).rows[0][name];
      expect(await show("fsync")).toBe("on");
      expect(await show("synchronous_commit")).toBe("on");
      expect(await show("shared_buffers")).toBe(PGLITE_SETTINGS.shared_buffers);
      await db.knex.raw("create table durable_check (n int)");
      spy.mockClear();
      for (let n = 0; n < 3; n++) await db.knex("durable_check").insert({ n });
      // PGlite's WASM build answers fdatasync() without touching the disk; ours reaches the host.
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(3);
      expect(await db.knex("durable_check").count({ c: "*" }).first()).toEqual({ c: 3 });
    } finally {
      spy.mockRestore();
      await db.close();
      tmp.remove();
    }
  });

  describe("the build-time template", () => {
    const tmp = tempDataDir();
    const file = path.join(tmp.dir, "template.tar.gz");
    beforeAll(async () => {
      await buildTemplate(file);
    });
    afterAll(() => tmp.remove());

    it("seeds a new data directory that opens with every core migration already applied", async () => {
      const dataDir = path.join(tmp.dir, "seeded");
      expect(await seedFromTemplate(path.join(dataDir, "pgdata"), file)).toBe(true);
      const db = await openDatabase({ data_dir: dataDir, engine: "pglite" });
      try {
        expect((await migrate(db)).applied).toEqual([]);
        const names = (await db.knex(MIGRATION_TABLE).orderBy("id").pluck("name")) as string[];
        expect(names).toEqual(coreMigrations.map((m) => `core/${m.name}`));
        expect(await db.knex("inbound_events").select("event_id")).toEqual([]);
      } finally {
        await db.close();
      }
    });

    it("never touches a directory that already holds something", async () => {
      const dataDir = path.join(tmp.dir, "used");
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path.join(dataDir, "PG_VERSION"), "17\n");
      expect(await seedFromTemplate(dataDir, file)).toBe(false);
      expect(fs.readdirSync(dataDir)).toEqual(["PG_VERSION"]);
    });

    it("is ignored when another PGlite version made it", async () => {
      const stale = path.join(tmp.dir, "stale.tar.gz");
      fs.copyFileSync(file, stale);
      writeFileSync(`${stale}.json`, JSON.stringify({ pglite: "0.0.1" }));
      const dataDir = path.join(tmp.dir, "stale-target");
      expect(await seedFromTemplate(dataDir, stale)).toBe(false);
      expect(fs.existsSync(dataDir) ? fs.readdirSync(dataDir) : []).toEqual([]);
    });
  });
});
