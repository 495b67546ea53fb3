import { spawnSync } from "node:child_process";
import path from "node:path";
import { BridgeError } from "../../src/errors";
import { openDatabase, type Database } from "../../src/store/database";
import { migrate } from "../../src/store/migrations";
import { SQLITE_FILE } from "../../src/store/sqliteEngine";
import { CACHE_TEXT_BUDGET, ShimConnection } from "../../src/store/sqliteDriver";
import { closeTestDatabase, tempDataDir } from "./databases";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_HOOK = path.join(ROOT, "test", "harness", "tsHook.js");

/** Runs `code` (CommonJS, may require project .ts files) in a plain Node process; its stdout + stderr. */
function runNode(code: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ["-r", TS_HOOK, "-e", code], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("the embedded SQLite database", () => {
  it("commits durably: WAL journal, synchronous=FULL, the file held exclusively", async () => {
    const tmp = tempDataDir();
    const db = await openDatabase({ data_dir: tmp.dir, engine: "sqlite" });
    try {
      expect(db.dialect).toBe("sqlite");
      const pragma = async (name: string) =>
        Object.values(
          ((await db.knex.raw(`PRAGMA ${name}`)) as { rows: Record<string, unknown>[] }).rows[0],
        )[0];
      expect(await pragma("journal_mode")).toBe("wal");
      expect(await pragma("synchronous")).toBe(2); // FULL: the WAL is fsynced at every commit
      expect(await pragma("locking_mode")).toBe("exclusive");
    } finally {
      await db.close();
      tmp.remove();
    }
  });

  it("refuses a second process on the same data_dir, and a second open in this one, saying why", async () => {
    const tmp = tempDataDir();
    const db = await openDatabase({ data_dir: tmp.dir, engine: "sqlite" });
    try {
      await migrate(db);
      const file = path.join(tmp.dir, SQLITE_FILE);
      // Another process, straight on node:sqlite: it cannot even start a write transaction.
      const other = runNode(
        `const { DatabaseSync } = require("node:sqlite");
         const db = new DatabaseSync(${JSON.stringify(file)});
         try { db.exec("BEGIN IMMEDIATE"); console.log("GOT THE LOCK"); } catch (e) { console.log("REFUSED: " + e.message); }`,
      );
      expect(other.output).toContain("REFUSED: database is locked");
      // Another bridge (the same code path as `start`), in another process.
      const bridge = runNode(
        `require("./src/store/database").openDatabase({ data_dir: ${JSON.stringify(tmp.dir)}, engine: "sqlite" })
           .then(() => console.log("OPENED"), (e) => console.log(e.code + ": " + e.message));`,
      );
      expect(bridge.output).toContain(
        `DATABASE_UNAVAILABLE: The embedded database ${file} is in use by another process`,
      );
      const err = await openDatabase({ data_dir: tmp.dir, engine: "sqlite" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BridgeError);
      expect((err as BridgeError).code).toBe("DATABASE_UNAVAILABLE");
      expect((err as BridgeError).hint).toContain("database.data_dir");
    } finally {
      await db.close();
    }
    // Closed: the next process gets it.
    const after = await openDatabase({ data_dir: tmp.dir, engine: "sqlite" });
    await after.close();
    tmp.remove();
  });

  it("loads node:sqlite without printing Node's ExperimentalWarning, and keeps other warnings", () => {
    const r = runNode(
      `require("./src/store/sqliteClient").loadNodeSqlite(); process.emitWarning("still shown", "ExperimentalWarning");`,
    );
    expect(r.output).not.toContain("SQLite is an experimental feature");
    expect(r.output).toContain("ExperimentalWarning: still shown");
  });

  it("is the default (auto) for a new data_dir and in memory; a data_dir with PGlite's data keeps PGlite", async () => {
    const tmp = tempDataDir();
    try {
      const fresh = await openDatabase({ data_dir: path.join(tmp.dir, "new") });
      expect(fresh.dialect).toBe("sqlite");
      await fresh.close();
      const memory = await openDatabase({ data_dir: ":memory:" });
      expect(memory.dialect).toBe("sqlite");
      await memory.close();
      const old = path.join(tmp.dir, "old");
      const pglite = await openDatabase({ data_dir: old, engine: "pglite" });
      await migrate(pglite);
      await pglite
        .knex("bridge_rooms")
        .insert({ key: "space:bridge", room_id: "!s:example.org", kind: "space" });
      await pglite.close();
      const kept = await openDatabase({ data_dir: old });
      try {
        expect(kept.dialect).toBe("pglite");
        expect(await kept.knex("bridge_rooms").pluck("room_id")).toEqual(["!s:example.org"]);
      } finally {
        await kept.close();
      }
      const err = await openDatabase({ data_dir: old, engine: "mysql" }).catch((e: unknown) => e);
      expect((err as BridgeError).message).toContain("database.engine");
    } finally {
      tmp.remove();
    }
  });

  describe("values read back as node-postgres gives them", () => {
    let db: Database;
    beforeAll(async () => {
      db = await openDatabase({ data_dir: ":memory:", engine: "sqlite" });
      await db.knex.raw(
        "CREATE TABLE kinds (id integer PRIMARY KEY, at timestamptz, ok boolean, doc jsonb, data bytea, n bigint)",
      );
    });
    afterAll(async () => {
      await closeTestDatabase(db);
    });

    it("Dates, booleans, JSON, Buffers, in selects and in RETURNING", async () => {
      const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
      const row = {
        at,
        ok: true,
        doc: JSON.stringify({ a: [1, "b"] }),
        data: Buffer.from([0, 1, 255]),
        n: 7,
      };
      const returned = (await db.knex("kinds").insert(row).returning("*")) as Record<string, unknown>[];
      const selected = (await db.knex("kinds").first()) as Record<string, unknown>;
      for (const r of [returned[0], selected]) {
        expect(r.at).toEqual(at);
        expect(r.ok).toBe(true);
        expect(r.doc).toEqual({ a: [1, "b"] });
        expect(Buffer.isBuffer(r.data) && r.data.equals(Buffer.from([0, 1, 255]))).toBe(true);
        expect(r.n).toBe(7);
      }
      await db.knex("kinds").update({ ok: false, doc: "5" });
      expect(await db.knex("kinds").first("ok", "doc")).toEqual({ ok: false, doc: 5 });
    });

    it("knex.fn.now() is a timestamp that compares with bound Dates; raw() answers { rows, rowCount }", async () => {
      await db.knex("kinds").del();
      await db.knex("kinds").insert({ id: 1, at: db.knex.fn.now() });
      const before = new Date(Date.now() - 60_000);
      const r = await db.knex.raw<{ rows: { id: number }[]; rowCount: number }>(
        "SELECT id FROM kinds WHERE at > ?",
        [before],
      );
      expect(r.rows).toEqual([{ id: 1 }]);
      expect(((await db.knex("kinds").first("at")) as { at: Date }).at).toBeInstanceOf(Date);
      const del = await db.knex.raw<{ rowCount: number }>("DELETE FROM kinds WHERE id = ?", [1]);
      expect(del.rowCount).toBe(1);
    });

    it("lets the event loop turn during a long chain of queries (timers and signals are not held up)", async () => {
      let turns = 0;
      const probe = setInterval(() => turns++, 0);
      try {
        for (let i = 0; i < 3000; i++) await db.knex("kinds").where("id", -1).first();
        expect(turns).toBeGreaterThan(0); // read before the loop can turn again
      } finally {
        clearInterval(probe);
      }
    });

    it("DELETE … RETURNING returns the rows; SKIP LOCKED compiles to nothing", async () => {
      await db.knex("kinds").insert([{ id: 2 }, { id: 3 }]);
      expect(await db.knex("kinds").where("id", 2).del().returning("id")).toEqual([{ id: 2 }]);
      expect(await db.knex("kinds").select("id").forUpdate().skipLocked()).toEqual([{ id: 3 }]);
    });
  });
});

describe("the SQLite driver's statement cache", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DatabaseSync } = require("node:sqlite") as typeof import("node:sqlite");

  it("keeps the statements that recur, bounded by their text as well as their count", () => {
    const conn = new ShimConnection(new DatabaseSync(":memory:"));
    try {
      conn.prepare("CREATE TABLE t (a text, b text)").run([]);
      const small = "INSERT INTO t (a, b) VALUES (?, ?)";
      expect(conn.prepare(small)).toBe(conn.prepare(small)); // reused, not prepared again
      // One multi-row text per row count, as a claim of 1..300 events makes them.
      const multi = (n: number) =>
        `INSERT INTO t (a, b) ${Array.from({ length: n }, () => "SELECT ? AS a, ? AS b").join(" UNION ALL ")}`;
      for (let n = 1; n <= 300; n++)
        conn.prepare(multi(n)).run(Array.from({ length: 2 * n }, (_, i) => `v${i}`));
      const { statements, text } = conn.cached;
      expect(text).toBeLessThanOrEqual(CACHE_TEXT_BUDGET);
      expect(statements).toBeGreaterThan(1);
      expect(statements).toBeLessThan(300);
      // The most recent shape is still cached; a text above a quarter of the budget never is.
      expect(conn.prepare(multi(300))).toBe(conn.prepare(multi(300)));
      const huge = `SELECT '${"x".repeat(CACHE_TEXT_BUDGET / 4)}' AS pad`;
      expect(huge.length).toBeGreaterThan(CACHE_TEXT_BUDGET / 4);
      expect(conn.prepare(huge)).not.toBe(conn.prepare(huge));
    } finally {
      conn.close();
    }
  });
});
