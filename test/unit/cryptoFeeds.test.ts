import { parseFeeds, hasFeeds } from "../../src/crypto/feeds";
import { Sealer } from "../../src/crypto/sealing";
import { feedRows } from "../../src/crypto/feedIntake";
import { FeedMemory } from "../../src/crypto/feedMemory";

const ours = (u: string) => u.startsWith("@_agent_");

describe("crypto feeds of a transaction", () => {
  const toDevice = {
    type: "m.room.encrypted",
    sender: "@alice:x",
    to_user_id: "@_agent_echo:x",
    to_device_id: "DEV",
    content: { ciphertext: {} },
  };

  it("reads the unstable names Synapse sends", () => {
    const feeds = parseFeeds(
      {
        "de.sorunome.msc2409.to_device": [toDevice],
        "org.matrix.msc3202.device_one_time_keys_count": {
          "@_agent_echo:x": { DEV: { signed_curve25519: 7 } },
        },
        "org.matrix.msc3202.device_unused_fallback_key_types": {
          "@_agent_echo:x": { DEV: ["signed_curve25519"] },
        },
        "org.matrix.msc3202.device_lists": { changed: ["@alice:x"], left: ["@bob:x"] },
      },
      ours,
    );
    const dev = feeds.devices.get("@_agent_echo:x|DEV")!.feed;
    expect(dev.toDevice).toEqual([
      { type: "m.room.encrypted", sender: "@alice:x", content: { ciphertext: {} } },
    ]);
    expect(dev.otkCounts).toEqual({ signed_curve25519: 7 });
    expect(dev.fallbackTypes).toEqual(["signed_curve25519"]);
    expect(feeds.changed).toEqual(["@alice:x"]);
    expect(feeds.left).toEqual(["@bob:x"]);
    expect(hasFeeds(feeds)).toBe(true);
  });

  it("reads the stable names and the older key-count name", () => {
    const stable = parseFeeds(
      { to_device: [toDevice], device_lists: { changed: [], left: ["@bob:x"] } },
      ours,
    );
    expect(stable.fieldsSeen).toEqual(["to_device", "device_lists"]);
    expect(stable.left).toEqual(["@bob:x"]);
    const older = parseFeeds(
      {
        "org.matrix.msc3202.device_one_time_key_counts": {
          "@_agent_echo:x": { DEV: { signed_curve25519: 3 } },
        },
      },
      ours,
    );
    expect(older.devices.get("@_agent_echo:x|DEV")!.feed.otkCounts).toEqual({ signed_curve25519: 3 });
  });

  it("drops malformed entries and other users' messages, and counts them", () => {
    const feeds = parseFeeds(
      {
        "de.sorunome.msc2409.to_device": [
          { ...toDevice, to_user_id: "@alice:x" },
          { ...toDevice, content: "not an object" },
          null,
          toDevice,
        ],
        "org.matrix.msc3202.device_one_time_keys_count": { "@_agent_echo:x": "nope", "@alice:x": {} },
      },
      ours,
    );
    expect(feeds.devices.get("@_agent_echo:x|DEV")!.feed.toDevice).toHaveLength(1);
    expect(feeds.dropped).toBe(5);
    expect(hasFeeds(parseFeeds({ events: [] }, ours))).toBe(false);
  });
});

describe("sealing the crypto store", () => {
  it("opens what it sealed only at the same place and with the same key", () => {
    const sealer = new Sealer("sixteen chars min!");
    const sealed = sealer.seal(Buffer.from("olm account"), "@a:x\u0000db/core");
    expect(sealed.includes(Buffer.from("olm account"))).toBe(false);
    expect(sealer.open(sealed, "@a:x\u0000db/core").toString()).toBe("olm account");
    expect(() => sealer.open(sealed, "@b:x\u0000db/core")).toThrow(/does not open/);
    expect(() => new Sealer("another key of 16+").open(sealed, "@a:x\u0000db/core")).toThrow(
      expect.objectContaining({ code: "CRYPTO_STORE_KEY" }),
    );
    expect(() => new Sealer("short")).toThrow(/encryption.pickle_key/);
  });
});

describe("which feeds are stored for a device", () => {
  const counts = (n: number) => ({
    "org.matrix.msc3202.device_one_time_keys_count": { "@_agent_echo:x": { DEV: { signed_curve25519: n } } },
    "org.matrix.msc3202.device_unused_fallback_key_types": {
      "@_agent_echo:x": { DEV: ["signed_curve25519"] },
    },
  });
  const toDevice = {
    type: "m.room.encrypted",
    sender: "@alice:x",
    to_user_id: "@_agent_echo:x",
    to_device_id: "DEV",
    content: { ciphertext: {} },
  };
  /** A machine that last took in 50 one-time keys and a signed_curve25519 fallback key. */
  const machineSaw = (userId: string, otk?: Record<string, number>, fallback?: string[]) =>
    userId === "@_agent_echo:x" &&
    (otk === undefined || (Object.keys(otk).length === 1 && otk.signed_curve25519 === 50)) &&
    (fallback === undefined || JSON.stringify(fallback) === '["signed_curve25519"]');
  const opts = {
    agentUserIds: new Set(["@_agent_echo:x"]),
    deviceIdOf: () => "DEV",
    isSelfTest: () => false,
    seen: { unseen: async (_trx: unknown, _u: string, events: Record<string, unknown>[]) => events } as never,
    nothingNew: machineSaw,
  };
  const rows = (body: Record<string, unknown>) => feedRows({} as never, parseFeeds(body, ours), opts);

  it("stores no feed for counts the machine already took in, and every one that brings something", async () => {
    expect(await rows(counts(50))).toEqual([]);
    expect((await rows(counts(49))).map((r) => r.payload.otkCounts)).toEqual([{ signed_curve25519: 49 }]);
    const used = {
      ...counts(50),
      "org.matrix.msc3202.device_unused_fallback_key_types": { "@_agent_echo:x": { DEV: [] } },
    };
    expect((await rows(used)).map((r) => r.payload.fallbackTypes)).toEqual([[]]);
    const withMessage = { ...counts(50), "de.sorunome.msc2409.to_device": [toDevice] };
    expect((await rows(withMessage)).map((r) => r.payload.toDevice.length)).toEqual([1]);
    // Without a machine's answer (not loaded yet), everything is stored as before.
    const before = await feedRows({} as never, parseFeeds(counts(50), ours), {
      ...opts,
      nothingNew: undefined,
    });
    expect(before).toHaveLength(1);
  });
});

describe("FeedMemory", () => {
  it("says nothing is new only for exactly the counts and fallback types taken in", () => {
    const m = new FeedMemory();
    expect(m.nothingNew({ signed_curve25519: 50 }, undefined)).toBe(false); // nothing taken in yet
    m.counts = { signed_curve25519: 50 };
    m.noteFallback(["signed_curve25519"]);
    expect(m.nothingNew({ signed_curve25519: 50 }, ["signed_curve25519"])).toBe(true);
    expect(m.nothingNew(undefined, undefined)).toBe(true);
    expect(m.nothingNew({ signed_curve25519: 49 }, ["signed_curve25519"])).toBe(false);
    expect(m.nothingNew({ signed_curve25519: 50, curve25519: 1 }, undefined)).toBe(false);
    expect(m.nothingNew({ signed_curve25519: 50 }, [])).toBe(false); // the fallback key was used
  });
});
