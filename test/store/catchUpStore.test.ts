import type { Database } from "../../src/store/database";
import { CatchUpStore, toDeviceDigest } from "../../src/crypto/catchUpStore";
import { CryptoStore } from "../../src/crypto/cryptoStore";
import { Sealer } from "../../src/crypto/sealing";
import { backendCases, closeTestDatabase, openMigrated, truncate } from "./databases";
import { ago } from "../../src/store/sqlDialect";

const agent = "@_agent_echo:example.org";
const olm = (body: string, sender = "@alice:example.org") => ({
  type: "m.room.encrypted",
  sender,
  content: { algorithm: "m.olm.v1.curve25519-aes-sha2", ciphertext: { K: { type: 0, body } } },
});

describe.each(backendCases())("To-device catch-up store on %s", (_name, backend) => {
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

  it("takes a message in once, whether a transaction or /sync brings it first", async () => {
    const a = olm("A");
    const b = olm("B");
    // A transaction delivered A (recorded in its claim).
    const first = await db.knex.transaction((trx) => seen.unseen(trx, agent, [a]));
    expect(first).toEqual([a]);
    // /sync returns A and B (Synapse keeps both until a /sync acknowledges them), keys reordered.
    const reordered = { content: a.content, sender: a.sender, type: a.type };
    const added = await seen.store(agent, "DEV", [reordered, b], "s1", (trx, payload) =>
      crypto.addFeeds(trx, [{ userId: agent, deviceId: "DEV", payload }]),
    );
    expect(added).toBe(1);
    const feed = await crypto.feedFor(agent, 10);
    expect(feed.map((f) => f.payload.toDevice)).toEqual([[b]]);
    expect(await seen.since(agent)).toBe("s1");
    // A lagging transaction with B afterwards brings nothing new; another device's B is its own.
    expect(await db.knex.transaction((trx) => seen.unseen(trx, agent, [b]))).toEqual([]);
    expect(await db.knex.transaction((trx) => seen.unseen(trx, "@_agent_faq:example.org", [b]))).toEqual([b]);
  });

  it("stores nothing and keeps the old since token when the store fails", async () => {
    await seen.store(agent, "DEV", [], "s1", async () => undefined);
    await expect(
      seen.store(agent, "DEV", [olm("C")], "s2", async () => {
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    expect(await seen.since(agent)).toBe("s1");
    // C was not recorded as seen: the next /sync (still from s1) brings it again and it counts.
    expect(await db.knex.transaction((trx) => seen.unseen(trx, agent, [olm("C")]))).toHaveLength(1);
  });

  it("counts a message twice in one batch once, and prunes only old digests", async () => {
    const d = olm("D");
    expect(await db.knex.transaction((trx) => seen.unseen(trx, agent, [d, d]))).toEqual([d]);
    await db.knex("crypto_to_device_seen").insert({
      user_id: agent,
      digest: toDeviceDigest(olm("old")),
      seen_at: ago(db.knex, 2 * 86_400_000),
    });
    expect(await seen.pruneSeen(agent)).toBe(1);
    expect(await db.knex.transaction((trx) => seen.unseen(trx, agent, [d]))).toEqual([]);
  });
});
