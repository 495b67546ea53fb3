import { GapRecovery, DEFAULT_GAP_OPTIONS, FORWARD_JUMP_PASS_MS } from "../../src/appservice/gapRecovery";
import type { HomeserverClient } from "../../src/appservice/homeserverClient";
import type { MembershipCache } from "../../src/appservice/membershipCache";
import type { RoomActivity } from "../../src/store/roomActivity";

/**
 * Which pushes make the bridge hold handling for a read-back. Synapse numbers every appservice's
 * transactions from one sequence, so with other appservices on the homeserver the counter a
 * bridge sees jumps forward all the time: that alone must not hold anything.
 */
describe("gap suspicion", () => {
  let outage = false;
  let passes = 0;
  let now = 1_000_000;
  const client = {
    takeOutage: () => {
      const had = outage;
      outage = false;
      return had;
    },
  } as unknown as HomeserverClient;
  const activity = {
    activeSince: async () => {
      passes++;
      return [];
    },
    prune: async () => 0,
  } as unknown as RoomActivity;
  const gaps = () =>
    new GapRecovery(
      client,
      {} as MembershipCache,
      [],
      activity,
      async () => undefined,
      DEFAULT_GAP_OPTIONS,
      () => now,
    );
  const settle = () => new Promise((r) => setImmediate(r));

  beforeEach(() => {
    outage = false;
    passes = 0;
    now = 1_000_000;
  });

  it("holds for a counter that goes back (a restart) and for an outage, not for the next id or a retry", () => {
    const g = gaps();
    expect(g.suspectLoss("10")).toBe(false);
    expect(g.suspectLoss("11")).toBe(false);
    expect(g.suspectLoss("11")).toBe(false); // the same transaction again: a retry
    expect(g.suspectLoss("3")).toBe(true); // went back: the homeserver restarted
    outage = true;
    expect(g.suspectLoss("4")).toBe(true);
  });

  it("a forward jump holds nothing and starts at most one background read-back a minute", async () => {
    const g = gaps();
    g.suspectLoss("1");
    expect(g.suspectLoss("5")).toBe(false);
    await settle();
    expect(passes).toBe(1);
    for (let id = 9; id < 40; id += 4) expect(g.suspectLoss(String(id))).toBe(false);
    await settle();
    expect(passes).toBe(1);
    now += FORWARD_JUMP_PASS_MS;
    expect(g.suspectLoss("50")).toBe(false);
    await settle();
    expect(passes).toBe(2);
  });
});
