import type { Database } from "../../src/store/database";
import type { HomeserverClient } from "../../src/appservice/homeserverClient";
import { CatchUpStore } from "../../src/crypto/catchUpStore";
import { CryptoStore } from "../../src/crypto/cryptoStore";
import { Sealer } from "../../src/crypto/sealing";
import { DeviceLock } from "../../src/crypto/deviceLock";
import { ToDeviceCatchUp } from "../../src/crypto/toDeviceCatchUp";
import { backendCases, closeTestDatabase, openMigrated, truncate } from "./databases";

const agent = "@_agent_echo:example.org";
const olm = (body: string) => ({
  type: "m.room.encrypted",
  sender: "@alice:example.org",
  content: { algorithm: "m.olm.v1.curve25519-aes-sha2", ciphertext: { K: { type: 0, body } } },
});

/** The homeserver's /sync as scripted pages; records the query of each call (its since token). */
function scriptedSync(pages: unknown[]) {
  const queries: Record<string, string | undefined>[] = [];
  const client = {
    request: async (_method: string, path: string, opts: { query: Record<string, string | undefined> }) => {
      expect(path).toBe("/_matrix/client/v3/sync");
      queries.push(opts.query);
      const page = pages.shift();
      if (page instanceof Error) throw page;
      return page ?? { next_batch: opts.query.since, to_device: { events: [] } };
    },
  } as unknown as HomeserverClient;
  return { client, queries };
}

describe.each(backendCases())("To-device catch-up on %s", (_name, backend) => {
  let db: Database;
  let seen: CatchUpStore;
  let crypto: CryptoStore;
  beforeAll(async () => {
    db = await openMigrated(backend);
    seen = new CatchUpStore(db.knex);
    crypto = new CryptoStore(db.knex, new Sealer("a test pickle key, long enough"));
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await truncate(db, ["crypto_feed", "crypto_sync_since", "crypto_to_device_seen"]);
  });

  const catchUp = (client: HomeserverClient) =>
    new ToDeviceCatchUp({
      client,
      store: seen,
      lock: new DeviceLock(db.knex, false),
      addFeed: (trx, userId, deviceId, payload) => crypto.addFeeds(trx, [{ userId, deviceId, payload }]),
      isSelfTest: (ev) => ev.type === "org.example.self_test",
    });

  it("pages through the inbox, each since token being the previous answer's, until it is empty", async () => {
    const selfTest = { type: "org.example.self_test", sender: "@bot:example.org", content: {} };
    const { client, queries } = scriptedSync([
      { next_batch: "s1", to_device: { events: [olm("A"), selfTest, { type: "bad" }] } },
      { next_batch: "s2", to_device: { events: [olm("B")] } },
      { next_batch: "s2", to_device: { events: [] } },
    ]);
    expect(await catchUp(client).run(agent, "DEV", "test")).toBe(2);
    expect(queries.map((q) => q.since)).toEqual([undefined, "s1", "s2"]);
    expect(queries[0]).toMatchObject({ device_id: "DEV", timeout: "0", set_presence: "offline" });
    expect(JSON.parse(queries[0].filter!)).toEqual({
      room: { rooms: [] },
      presence: { types: [] },
      account_data: { types: [] },
    });
    const feed = await crypto.feedFor(agent, 10);
    expect(feed.map((f) => f.payload.toDevice)).toEqual([[olm("A")], [olm("B")]]);
    expect(await seen.since(agent)).toBe("s2");
  });

  it("never takes in, nor acknowledges, an answer over the cap; a failed call keeps the token", async () => {
    const flood = Array.from({ length: 1001 }, (_, i) => olm(`F${i}`));
    const { client, queries } = scriptedSync([
      { next_batch: "s1", to_device: { events: [olm("A")] } },
      { next_batch: "s9", to_device: { events: flood } },
    ]);
    await expect(catchUp(client).run(agent, "DEV", "test")).rejects.toThrow("cap 1000");
    expect(await seen.since(agent)).toBe("s1");
    expect(await crypto.feedFor(agent, 10)).toHaveLength(1);
    const again = scriptedSync([new Error("homeserver down")]);
    await expect(catchUp(again.client).run(agent, "DEV", "test")).rejects.toThrow("homeserver down");
    expect(again.queries.map((q) => q.since)).toEqual(["s1"]);
    expect(queries).toHaveLength(2);
    expect(await seen.since(agent)).toBe("s1");
  });
});
