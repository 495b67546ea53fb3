/**
 * No homeserver request while a database transaction is open (the team rule): the client and the
 * intents refuse to run inside one, and work that needed the homeserver re-runs after fetching.
 */
import type { Database } from "../../src/store/database";
import { HomeserverClient } from "../../src/appservice/homeserverClient";
import { guardedIntents } from "../../src/appservice/matrixIntents";
import { inTransaction, NeedsHomeserver, transactionWithPrefetch } from "../../src/store/transactionScope";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

describe.each(backendCases())("transaction scope on %s", (_name, backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await openMigrated(backend);
  });
  afterAll(() => closeTestDatabase(db));
  beforeEach(() => resetTables(db));

  it("knows when code runs inside a transaction, savepoints included, and not after it", async () => {
    let leftBehind: Promise<boolean> | undefined;
    expect(inTransaction()).toBe(false);
    await db.knex.transaction(async (trx) => {
      expect(inTransaction()).toBe(true);
      await trx.transaction(async () => expect(inTransaction()).toBe(true));
      leftBehind = new Promise((r) => setTimeout(() => r(inTransaction()), 20));
    });
    expect(inTransaction()).toBe(false);
    expect(await leftBehind).toBe(false);
  });

  it("fails a homeserver request or an intent call made inside a transaction", async () => {
    // Port 9 (discard): nothing answers, and nothing must be tried.
    const client = new HomeserverClient("http://127.0.0.1:9", "token");
    const joined: string[] = [];
    const intents = guardedIntents({
      botUserId: "@bot:x",
      intent: () => ({ join: async (roomId: string) => void joined.push(roomId) }) as never,
    });
    await db.knex.transaction(async () => {
      await expect(client.request("GET", "/_matrix/client/versions")).rejects.toMatchObject({
        code: "HTTP_IN_TRANSACTION",
      });
      await expect(async () => intents.intent("@a:x").join("!r:x")).rejects.toMatchObject({
        code: "HTTP_IN_TRANSACTION",
      });
    });
    await intents.intent("@a:x").join("!r:x");
    expect(joined).toEqual(["!r:x"]);
  });

  it("re-runs work that needed the homeserver, even when the work swallowed the signal", async () => {
    let cached = false;
    let fetchedInside: boolean | undefined;
    const rows: number[] = [];
    const result = await transactionWithPrefetch(db.knex, async (trx) => {
      await trx("bridge_rooms").insert({ key: `k${rows.length}`, room_id: `!r${rows.length}:x`, kind: "t" });
      rows.push(rows.length);
      if (!cached) {
        try {
          throw new NeedsHomeserver("a fact", async () => {
            fetchedInside = inTransaction();
            cached = true;
          });
        } catch {
          return "guessed"; // an agent that catches every error and carries on
        }
      }
      return "answered";
    });
    expect(result).toBe("answered");
    expect(fetchedInside).toBe(false);
    // The first run (the guess) was rolled back: only the second run's row is there.
    expect((await db.knex("bridge_rooms").select("key")).map((r) => r.key)).toEqual(["k1"]);
  });
});
