import { RoomUpgrades } from "../../src/appservice/roomUpgrade";
import { MembershipCache } from "../../src/appservice/membershipCache";
import type { HomeserverClient } from "../../src/appservice/homeserverClient";
import type { IntentProvider } from "../../src/appservice/matrixIntents";
import type { PowerLevelFacts } from "../../src/appservice/roomFacts";
import type { MatrixEvent } from "../../src/agents/types";

const A = "!old:example.org";
const B = "!new:example.org";
const FAQ = "@_agent_faq:example.org";

/** A homeserver where B's create event names `predecessor`, and the agents' joins and leaves are recorded. */
function world(opts: { senderLevel: number; tombstoneLevel?: number; predecessor?: string }) {
  const actions: string[] = [];
  const client = {
    joinedMembers: async () => [],
    request: async (_method: string, path: string) => {
      if (path.includes(encodeURIComponent(B)) && path.includes("m.room.create"))
        return opts.predecessor ? { predecessor: { room_id: opts.predecessor } } : {};
      throw new Error(`unexpected ${path}`);
    },
  } as unknown as HomeserverClient;
  const intents = {
    intent: (userId: string) => ({
      join: async (roomId: string) => void actions.push(`${userId} join ${roomId}`),
      leave: async (roomId: string) => void actions.push(`${userId} leave ${roomId}`),
    }),
  } as unknown as IntentProvider;
  const facts = {
    powerLevel: async () => opts.senderLevel,
    stateLevel: async () => opts.tombstoneLevel ?? 100,
  } as unknown as PowerLevelFacts;
  const upgrades = new RoomUpgrades(client, intents, new MembershipCache(client), facts);
  return { upgrades, actions };
}

const tombstone = (replacement: unknown): MatrixEvent =>
  ({
    event_id: "$t",
    room_id: A,
    sender: "@mod:example.org",
    type: "m.room.tombstone",
    state_key: "",
    content: { replacement_room: replacement, body: "moved" },
  }) as unknown as MatrixEvent;

describe("room upgrades are followed only when they are real", () => {
  it("follows a tombstone sent with power whose new room names the old one", async () => {
    const { upgrades, actions } = world({ senderLevel: 100, predecessor: A });
    expect(await upgrades.check(tombstone(B), [FAQ])).toEqual({
      verified: true,
      newRoomId: B,
      joined: [FAQ],
    });
    expect(actions).toEqual([`${FAQ} join ${B}`]);
  });

  it("refuses a tombstone from a sender below the tombstone's power level, before joining anything", async () => {
    const { upgrades, actions } = world({ senderLevel: 50, predecessor: A });
    expect(await upgrades.check(tombstone(B), [FAQ])).toEqual({
      verified: false,
      reason: "the sender's power level 50 is below 100",
    });
    expect(actions).toEqual([]);
  });

  it("refuses (and leaves again) when the new room names another predecessor or none", async () => {
    for (const predecessor of ["!elsewhere:example.org", undefined]) {
      const { upgrades, actions } = world({ senderLevel: 100, predecessor });
      const result = await upgrades.check(tombstone(B), [FAQ]);
      expect(result.verified).toBe(false);
      expect(actions).toEqual([`${FAQ} join ${B}`, `${FAQ} leave ${B}`]);
    }
  });

  it("refuses a tombstone that names no other room", async () => {
    for (const replacement of [undefined, 42, "not-a-room", A]) {
      const { upgrades, actions } = world({ senderLevel: 100, predecessor: A });
      expect(await upgrades.check(tombstone(replacement), [FAQ])).toEqual({
        verified: false,
        reason: "the tombstone names no other room",
      });
      expect(actions).toEqual([]);
    }
  });
});
