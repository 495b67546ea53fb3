import type { Database } from "../../src/store/database";
import { CryptoStore } from "../../src/crypto/cryptoStore";
import { Sealer } from "../../src/crypto/sealing";
import { cryptoRuntime } from "../../src/crypto/runtime";
import {
  databasesWithPrefix,
  deleteDatabases,
  dumpDatabases,
  restoreDatabases,
  trackWrites,
} from "../../src/crypto/idbSnapshot";
import { backendCases, closeTestDatabase, openMigrated, truncate } from "./databases";

const alice = "@_agent_echo:example.org";

describe.each(backendCases())("Crypto store on %s", (_name, backend) => {
  let db: Database;
  let store: CryptoStore;
  beforeAll(async () => {
    db = await openMigrated(backend);
    store = new CryptoStore(db.knex, new Sealer("a test pickle key, long enough"));
    trackWrites();
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await truncate(db, ["crypto_devices", "crypto_store", "crypto_feed"]);
  });

  it("keeps a real OlmMachine's identity through a sealed save and a restore", async () => {
    const wasm = await cryptoRuntime();
    const name = "store-test-a";
    const machine = await wasm.OlmMachine.initialize(new wasm.UserId(alice), new wasm.DeviceId("DEV"), name);
    const identity = machine.identityKeys.curve25519.toBase64();
    await machine.outgoingRequests(); // generates one-time keys into the store
    const names = await databasesWithPrefix(`${name}::`);
    const parts = await dumpDatabases(names);
    const version = await store.save({
      userId: alice,
      deviceId: "DEV",
      expectedVersion: 0,
      changed: parts,
      removed: [],
      consumed: [],
    });
    expect(version).toBe(1);
    machine.close();
    await deleteDatabases(names);

    const raw = (await db.knex("crypto_store").where({ user_id: alice })) as { data: Uint8Array }[];
    expect(raw.length).toBe(parts.length);
    // Sealed at rest: the identity key does not appear in any row.
    for (const row of raw) expect(Buffer.from(row.data).includes(Buffer.from(identity))).toBe(false);

    await restoreDatabases(await store.loadParts(alice));
    const again = await wasm.OlmMachine.initialize(new wasm.UserId(alice), new wasm.DeviceId("DEV"), name);
    expect(again.identityKeys.curve25519.toBase64()).toBe(identity);
    again.close();
    await deleteDatabases(await databasesWithPrefix(`${name}::`));
  });

  it("refuses a save from a stale version, consumes feed rows with the save, stores a replayed feed once", async () => {
    const part = { name: "db/core", data: Buffer.from("state one") };
    await store.save({
      userId: alice,
      deviceId: "DEV",
      expectedVersion: 0,
      changed: [part],
      removed: [],
      consumed: [],
    });
    await db.knex.transaction((trx) =>
      store.addFeeds(trx, [
        {
          userId: alice,
          deviceId: "DEV",
          payload: { toDevice: [{ type: "m.room.encrypted" }], changed: [], left: [] },
        },
        { userId: alice, deviceId: "DEV", payload: { toDevice: [], changed: ["@bob:x"], left: [] } },
      ]),
    );
    // The homeserver sends the transaction again (no 200 the first time): nothing is stored twice.
    await db.knex.transaction((trx) =>
      store.addFeeds(trx, [
        { userId: alice, deviceId: "DEV", payload: { toDevice: [], changed: ["@bob:x"], left: [] } },
      ]),
    );
    const feed = await store.feedFor(alice, 10);
    expect(feed.map((f) => f.payload.changed)).toEqual([[], ["@bob:x"]]);
    expect(await store.usersWithFeed()).toEqual([alice]);

    await expect(
      store.save({
        userId: alice,
        deviceId: "DEV",
        expectedVersion: 0,
        changed: [],
        removed: [],
        consumed: [],
      }),
    ).rejects.toMatchObject({ code: "CRYPTO_STORE_CONFLICT" });
    const next = { name: "db/core", data: Buffer.from("state two") };
    const v2 = await store.save({
      userId: alice,
      deviceId: "DEV",
      expectedVersion: 1,
      changed: [next],
      removed: [],
      consumed: [feed[0].seq],
    });
    expect(v2).toBe(2);
    await expect(
      store.save({
        userId: alice,
        deviceId: "DEV",
        expectedVersion: 1,
        changed: [],
        removed: [],
        consumed: [],
      }),
    ).rejects.toMatchObject({ code: "CRYPTO_STORE_CONFLICT" });
    expect((await store.feedFor(alice, 10)).map((f) => f.seq)).toEqual([feed[1].seq]);
    expect((await store.loadParts(alice)).map((p) => p.data.toString())).toEqual(["state two"]);
    expect(await store.device(alice)).toEqual({ deviceId: "DEV", version: 2, crossSigned: false });
  });

  it("does not open rows with another key", async () => {
    await store.save({
      userId: alice,
      deviceId: "DEV",
      expectedVersion: 0,
      changed: [{ name: "db/core", data: Buffer.from("secret") }],
      removed: [],
      consumed: [],
    });
    const other = new CryptoStore(db.knex, new Sealer("another pickle key, also long"));
    await expect(other.loadParts(alice)).rejects.toMatchObject({ code: "CRYPTO_STORE_KEY" });
  });
});
