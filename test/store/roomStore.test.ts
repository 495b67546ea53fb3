import type { Database } from "../../src/store/database";
import { RoomStore } from "../../src/store/roomStore";
import { ProfileStore } from "../../src/store/profileStore";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

describe.each(backendCases())("RoomStore and ProfileStore on %s", (_name, backend) => {
  let db: Database;
  let rooms: RoomStore;
  let profiles: ProfileStore;
  beforeAll(async () => {
    db = await openMigrated(backend);
    rooms = new RoomStore(db.knex);
    profiles = new ProfileStore(db.knex);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await resetTables(db);
  });

  it("puts, gets and upserts rooms by key", async () => {
    expect(await rooms.get("space:bridge")).toBeNull();
    await rooms.put("space:bridge", "!space:example.org", "space");
    expect(await rooms.get("space:bridge")).toEqual({
      roomId: "!space:example.org",
      kind: "space",
      owner: null,
    });
    await rooms.put("space:bridge", "!space2:example.org", "space", "@admin:example.org");
    expect(await rooms.get("space:bridge")).toEqual({
      roomId: "!space2:example.org",
      kind: "space",
      owner: "@admin:example.org",
    });
    expect(await rooms.count()).toBe(1);
  });

  it("lists by kind and finds by room id", async () => {
    await rooms.put("home:timer", "!home-timer:example.org", "home");
    await rooms.put("home:faq", "!home-faq:example.org", "home");
    await rooms.put("dm:timer:@bob:example.org", "!dm:example.org", "dm", "@bob:example.org");
    expect(await rooms.byKind("home")).toEqual([
      { key: "home:faq", roomId: "!home-faq:example.org", owner: null },
      { key: "home:timer", roomId: "!home-timer:example.org", owner: null },
    ]);
    expect(await rooms.byKind("nothing")).toEqual([]);
    expect(await rooms.byRoomId("!dm:example.org")).toEqual({
      key: "dm:timer:@bob:example.org",
      kind: "dm",
      owner: "@bob:example.org",
    });
    expect(await rooms.byRoomId("!unknown:example.org")).toBeNull();
    expect(await rooms.count()).toBe(3);
  });

  it("deletes by key", async () => {
    await rooms.put("home:timer", "!home-timer:example.org", "home");
    expect(await rooms.delete("home:timer")).toBe(true);
    expect(await rooms.delete("home:timer")).toBe(false);
    expect(await rooms.get("home:timer")).toBeNull();
    expect(await rooms.count()).toBe(0);
  });

  it("refuses one room id under two keys", async () => {
    await rooms.put("home:timer", "!same:example.org", "home");
    await expect(rooms.put("home:faq", "!same:example.org", "home")).rejects.toThrow();
  });

  it("creates and patches agent profiles", async () => {
    expect(await profiles.get("@_agent_timer:example.org")).toBeNull();
    const created = await profiles.upsert("@_agent_timer:example.org", { displayName: "Timer" });
    expect(created).toMatchObject({
      userId: "@_agent_timer:example.org",
      displayName: "Timer",
      avatarUrl: null,
      registered: false,
    });
    expect(created.updatedAt).toBeInstanceOf(Date);

    await profiles.upsert("@_agent_timer:example.org", { registered: true });
    await profiles.upsert("@_agent_timer:example.org", { avatarUrl: "mxc://example.org/abc" });
    expect(await profiles.get("@_agent_timer:example.org")).toMatchObject({
      displayName: "Timer",
      avatarUrl: "mxc://example.org/abc",
      registered: true,
    });
    const cleared = await profiles.upsert("@_agent_timer:example.org", { displayName: null });
    expect(cleared).toMatchObject({
      displayName: null,
      avatarUrl: "mxc://example.org/abc",
      registered: true,
    });
    const touched = await profiles.upsert("@_agent_timer:example.org", {});
    expect(touched.registered).toBe(true);
  });
});
