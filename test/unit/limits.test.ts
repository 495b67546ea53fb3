import { LruMap } from "../../src/appservice/lruMap";
import { RateLimiter } from "../../src/appservice/rateLimiter";
import { MembershipCache } from "../../src/appservice/membershipCache";
import { PowerLevelFacts, privilegedCreators } from "../../src/appservice/roomFacts";
import type { HomeserverClient } from "../../src/appservice/homeserverClient";
import { MatrixHttpError } from "../../src/appservice/homeserverClient";
import { HomeserverError } from "../../src/errors";
import { classifySendError } from "../../src/queue/retryPolicy";

describe("LruMap", () => {
  it("evicts the least recently used key beyond its bound; reads make a key recent", () => {
    const m = new LruMap<string, number>(3);
    m.set("a", 1).set("b", 2).set("c", 3);
    expect(m.get("a")).toBe(1); // a is now the most recent
    m.set("d", 4);
    expect(m.size).toBe(3);
    expect(m.peek("b")).toBeUndefined();
    expect([m.peek("a"), m.peek("c"), m.peek("d")]).toEqual([1, 3, 4]);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});

describe("MembershipCache", () => {
  it("holds at most maxRooms rooms and re-reads an evicted room from the homeserver", async () => {
    const asked: string[] = [];
    const client = {
      joinedMembers: async (roomId: string) => {
        asked.push(roomId);
        return ["@_agent_faq:example.org"];
      },
    } as unknown as HomeserverClient;
    const cache = new MembershipCache(client, 10);
    for (let i = 0; i < 25; i++)
      expect(await cache.isJoined(`!r${i}:x`, "@_agent_faq:example.org")).toBe(true);
    expect(cache.size).toBe(10);
    expect(asked).toHaveLength(25);
    await cache.isJoined("!r24:x", "@_agent_faq:example.org"); // recent: from memory
    expect(asked).toHaveLength(25);
    await cache.isJoined("!r0:x", "@_agent_faq:example.org"); // evicted: asked again
    expect(asked).toHaveLength(26);
  });
});

describe("PowerLevelFacts", () => {
  const facts = (version: string | undefined, maxRooms = 5000) => {
    const client = {
      request: async (_m: string, path: string) => {
        if (path.includes("m.room.power_levels")) return { users: { "@mod:x": 50 }, users_default: 0 };
        return { sender: "@creator:x", content: version === undefined ? {} : { room_version: version } };
      },
    } as unknown as HomeserverClient;
    return new PowerLevelFacts(client, async () => "@_agent_faq:x", [], maxRooms);
  };

  it("gives creators unlimited power only in the room versions known to do so", async () => {
    expect(await facts("12").powerLevel("!a:x", "@creator:x")).toBe(Infinity);
    expect(await facts("org.matrix.hydra.11").powerLevel("!a:x", "@creator:x")).toBe(Infinity);
    for (const version of ["11", "1", undefined, "13", "com.example.custom", "12 "]) {
      expect(await facts(version).powerLevel("!a:x", "@creator:x")).toBe(0);
    }
    expect(await facts("13").powerLevel("!a:x", "@mod:x")).toBe(50);
    expect(
      privilegedCreators({
        sender: "@c:x",
        content: { room_version: "12", additional_creators: ["@d:x", 5 as never] },
      }),
    ).toEqual(["@c:x", "@d:x"]);
  });

  it("holds at most maxRooms rooms", async () => {
    const f = facts("11", 4);
    for (let i = 0; i < 9; i++) await f.powerLevel(`!r${i}:x`, "@mod:x");
    expect(f.size).toBe(4);
  });
});

describe("RateLimiter", () => {
  it("limits each sender within its window", () => {
    const limiter = new RateLimiter(2, 60_000);
    expect([limiter.take("@a:x", 0), limiter.take("@a:x", 1), limiter.take("@a:x", 2)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(limiter.take("@b:x", 3)).toBe(true);
    expect(limiter.take("@a:x", 60_001)).toBe(true);
  });

  it("forgets senders whose window has passed on the next hit, keeping only active ones", () => {
    const limiter = new RateLimiter(5, 60_000);
    for (let i = 0; i < 20_000; i++) limiter.take(`@u${i}:x`, 0);
    limiter.take("@late:x", 30_000);
    expect(limiter.size).toBe(20_001);
    limiter.take("@now:x", 60_000);
    expect(limiter.size).toBe(2); // @late (still in its window) and @now
    limiter.take("@late:x", 60_001); // an active sender keeps its history
    expect(limiter.take("@late:x", 60_002)).toBe(true);
  });
});

describe("send retry limit", () => {
  const backoff = { baseMs: 500, maxMs: 60_000 };
  it("parks a 5xx (or an unexpected error) at the limit, never a network error or a 429", () => {
    const limits = { maxServerErrors: 5 };
    const e502 = new MatrixHttpError(502, "M_UNKNOWN", "bad gateway");
    expect(classifySendError(e502, 3, backoff, limits).kind).toBe("retry");
    expect(classifySendError(e502, 4, backoff, limits)).toEqual({
      kind: "park",
      code: "server_errors",
      reason: "gave up after 5 failed attempts: 502 M_UNKNOWN: bad gateway",
    });
    expect(classifySendError(new Error("bug"), 4, backoff, limits)).toMatchObject({
      kind: "park",
      code: "server_errors",
    });
    expect(classifySendError(new HomeserverError("ECONNREFUSED"), 99, backoff, limits).kind).toBe("retry");
    expect(
      classifySendError(new MatrixHttpError(429, "M_LIMIT_EXCEEDED", "slow", 10), 99, backoff, limits).kind,
    ).toBe("retry");
    expect(
      classifySendError(new MatrixHttpError(403, "M_FORBIDDEN", "no"), 0, backoff, limits),
    ).toMatchObject({
      kind: "park",
      code: "rejected",
    });
  });
});
