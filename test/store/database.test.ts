import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BridgeError } from "../../src/errors";
import {
  affectedRows,
  maskUrl,
  openDatabase,
  storableText,
  toJsonb,
  type Database,
} from "../../src/store/database";
import { migrate } from "../../src/store/migrations";
import { RoomStore } from "../../src/store/roomStore";
import { Inbox } from "../../src/store/inbox";
import { SQLITE_FILE } from "../../src/store/sqliteEngine";
import { backendCases, closeTestDatabase, openMigrated, pgServerUrl, tempDataDir } from "./databases";
import { coreMigrations } from "../../migrations";

/** Every core migration, in the order they must run. */
const CORE_NAMES = coreMigrations.map((m) => `core/${m.name}`);

describe.each(backendCases())("database on %s", (name, backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await openMigrated(backend);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });

  it("reports its dialect and answers queries", async () => {
    expect(db.dialect).toBe(name);
    const result = await db.knex.raw<{ rows: { x: number }[] }>("select 1 + 1 as x");
    expect(result.rows).toEqual([{ x: 2 }]);
  });

  it("stores text and json with NUL characters and lone surrogates", async () => {
    const inbox = new Inbox(db.knex);
    const event = {
      event_id: "$nul",
      type: "m.room.message\u0000",
      content: { body: "a\u0000b\uD800c", "k\u0000": [1] },
    };
    expect(await inbox.claim([event])).toEqual(["$nul"]);
    const stored = await inbox.get("$nul");
    expect(stored?.type).toBe("m.room.message\uFFFD");
    expect(stored?.payload.content).toEqual({ body: "a\uFFFDb\uFFFDc", "k\uFFFD": [1] });
  });

  it("keeps json arrays as json (not PostgreSQL arrays)", async () => {
    const inbox = new Inbox(db.knex);
    await inbox.claim([{ event_id: "$arr", content: { list: [1, "two", { three: 3 }] } }]);
    expect((await inbox.get("$arr"))?.payload).toEqual({
      event_id: "$arr",
      content: { list: [1, "two", { three: 3 }] },
    });
  });
});

describe.each([
  ["sqlite", SQLITE_FILE],
  ["pglite", "pgdata"],
] as const)("file-backed embedded database (%s)", (engine, where) => {
  it(`persists across close and reopen, in <data_dir>/${where}`, async () => {
    const tmp = tempDataDir();
    try {
      const dataDir = path.join(tmp.dir, "nested", "data");
      let db = await openDatabase({ data_dir: dataDir, engine });
      expect(db.dialect).toBe(engine);
      expect(existsSync(path.join(dataDir, where))).toBe(true);
      expect((await migrate(db)).applied).toEqual(CORE_NAMES);
      await new RoomStore(db.knex).put("space:bridge", "!space:example.org", "space");
      await new Inbox(db.knex).claim([{ event_id: "$persisted", room_id: "!r:example.org" }]);
      await db.close();
      await db.close(); // idempotent

      db = await openDatabase({ data_dir: dataDir, engine });
      try {
        expect((await migrate(db)).applied).toEqual([]);
        expect(await new RoomStore(db.knex).get("space:bridge")).toEqual({
          roomId: "!space:example.org",
          kind: "space",
          owner: null,
        });
        expect(await new Inbox(db.knex).claim([{ event_id: "$persisted" }, { event_id: "$new" }])).toEqual([
          "$new",
        ]);
      } finally {
        await db.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it("fails with DATABASE_UNAVAILABLE when data_dir cannot be created", async () => {
    const tmp = tempDataDir();
    try {
      const file = path.join(tmp.dir, "not-a-dir");
      writeFileSync(file, "x");
      const err = await openDatabase({ data_dir: file, engine }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BridgeError);
      expect((err as BridgeError).code).toBe("DATABASE_UNAVAILABLE");
      expect((err as BridgeError).hint).toContain("database.data_dir");
      expect((err as BridgeError).hint).toContain("database.url");
    } finally {
      tmp.remove();
    }
  });
});

describe("PostgreSQL connection errors", () => {
  it("wraps connection failures and never shows the password", async () => {
    const url = "postgres://mab:S3cretPassw0rd@127.0.0.1:1/nowhere";
    const err = await openDatabase({ url, data_dir: "unused" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    const bridgeError = err as BridgeError;
    expect(bridgeError.code).toBe("DATABASE_UNAVAILABLE");
    expect(bridgeError.hint).toContain("database.url");
    expect(bridgeError.message).toContain("127.0.0.1:1");
    expect(bridgeError.explain()).not.toContain("S3cretPassw0rd");
  });

  it("fails on a database that does not exist, naming it", async () => {
    const url = new URL(pgServerUrl());
    url.pathname = "/mab_does_not_exist_x";
    const err = await openDatabase({ url: url.toString(), data_dir: "unused" }).catch((e: unknown) => e);
    expect((err as BridgeError).code).toBe("DATABASE_UNAVAILABLE");
    expect((err as BridgeError).message).toContain("mab_does_not_exist_x");
  });
});

describe("helpers", () => {
  it("masks passwords in URLs", () => {
    expect(maskUrl("postgres://u:p%40ss@h:5432/db")).toBe("postgres://u:***@h:5432/db");
    expect(maskUrl("postgresql://h/db?user=u&password=pw")).toBe("postgresql://h/db?user=u&password=***");
    expect(maskUrl("postgres://u@h/db")).toBe("postgres://u@h/db");
    expect(maskUrl("not a url://u:pw@h")).not.toContain(":pw@");
  });

  it("normalises affected row counts", () => {
    expect(affectedRows(3)).toBe(3);
    expect(affectedRows({ rowCount: 2 })).toBe(2);
    expect(affectedRows({ affectedRows: 4 })).toBe(4);
    expect(affectedRows(undefined)).toBe(0);
  });

  it("makes text and json storable", () => {
    expect(storableText("a\u0000b")).toBe("a\uFFFDb");
    expect(storableText("\uD83D\uDE00")).toBe("\uD83D\uDE00");
    expect(storableText("x\uDE00")).toBe("x\uFFFD");
    expect(toJsonb({ a: "\\u0000 literal" })).toBe(JSON.stringify({ a: "\\u0000 literal" }));
    expect(JSON.parse(toJsonb({ a: "\u0000" }))).toEqual({ a: "\uFFFD" });
  });
});
