/**
 * What DirectMessages knows about DM rooms without the homeserver: every DM of the store at
 * start-up (loadAll), and rooms it has not seen, looked up in one query per push (learn), so the
 * first command in a DM after a restart, or in a DM another process recorded, is handled in its
 * claim like the later ones (inlineHandling.ts).
 */
import type { Database } from "../../src/store/database";
import { RoomStore } from "../../src/store/roomStore";
import { DirectMessages } from "../../src/appservice/directMessages";
import type { IntentProvider } from "../../src/appservice/matrixIntents";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

/** DirectMessages reads the store only here; any call to the homeserver fails the test. */
const NO_HOMESERVER: IntentProvider = {
  botUserId: "@bot:example.org",
  intent: () => {
    throw new Error("no homeserver call expected");
  },
};

describe.each(backendCases())("DirectMessages' room knowledge on %s", (_name, backend) => {
  let db: Database;
  let rooms: RoomStore;
  beforeAll(async () => {
    db = await openMigrated(backend);
    rooms = new RoomStore(db.knex);
  });
  afterAll(() => closeTestDatabase(db));
  beforeEach(() => resetTables(db));

  it("knows every stored DM after loadAll, and tells routing about each", async () => {
    await rooms.put("dm:reminders:@alice:example.org", "!dm1:example.org", "dm", "@alice:example.org");
    await rooms.put("dm:faq:@bob:example.org", "!dm2:example.org", "dm", "@bob:example.org");
    await rooms.put("space:bridge", "!space:example.org", "space");
    const told: string[] = [];
    const dms = new DirectMessages(NO_HOMESERVER, db.knex, (roomId) => told.push(roomId));
    expect(await dms.loadAll()).toBe(2);
    expect(dms.knownAgentFor("!dm1:example.org")).toBe("reminders");
    expect(dms.knownAgentFor("!dm2:example.org")).toBe("faq");
    expect(dms.knownAgentFor("!space:example.org")).toBeUndefined();
    expect(told.sort()).toEqual(["!dm1:example.org", "!dm2:example.org"]);
  });

  it("learns unseen rooms in one query, and asks about a room known not to be a DM only once", async () => {
    const dms = new DirectMessages(NO_HOMESERVER, db.knex);
    await dms.loadAll();
    // Recorded after start (another process sharing the database).
    await rooms.put("dm:timer:@carol:example.org", "!later:example.org", "dm", "@carol:example.org");
    expect(dms.knownAgentFor("!later:example.org")).toBeUndefined();
    const queries: string[] = [];
    const onQuery = (q: { sql: string }) => queries.push(q.sql);
    db.knex.on("query", onQuery);
    try {
      await dms.learn(["!later:example.org", "!group:example.org", "!later:example.org"]);
      expect(queries).toHaveLength(1);
      expect(dms.knownAgentFor("!later:example.org")).toBe("timer");
      expect(dms.knownAgentFor("!group:example.org")).toBeUndefined();
      // Both are settled now: learning them again reads nothing.
      await dms.learn(["!later:example.org", "!group:example.org"]);
      expect(queries).toHaveLength(1);
    } finally {
      db.knex.off("query", onQuery);
    }
  });
});
