/**
 * A fake room upgrade (issue: hostile input, finding 2). Mallory has power in her own room A, where
 * she taught the FAQ agent a phishing answer under `?wifi`. She is an ordinary member of Alice's
 * room B, where the agent also is. She sends a tombstone in A naming B as its replacement. Before,
 * the agent followed it and moved A's entries (the keys B lacked) into B. Now the upgrade is checked
 * (B's create event must name A as predecessor) and nothing moves. A real upgrade still moves the
 * entries (see faq.test.ts).
 */
import { BridgeFixture } from "../harness/bridgeFixture";
import { RawUser, type TimelineEvent } from "../harness/faultKit";

const FAQ = "@_agent_faq:localhost";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("fake room upgrades on a real Synapse", () => {
  let fixture: BridgeFixture;

  beforeAll(async () => {
    fixture = await BridgeFixture.create();
    await fixture.startBridge();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const reply = (events: TimelineEvent[], eventId: string) =>
    events.find(
      (e) =>
        e.sender === FAQ &&
        (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
          "m.in_reply_to"
        ]?.event_id === eventId,
    );

  async function ask(user: RawUser, room: string, body: string): Promise<string> {
    const id = await user.send(room, body);
    const events = await user.waitFor(room, (evs) => reply(evs, id) !== undefined, 20_000);
    return String(reply(events, id)?.content.body ?? "(no answer)");
  }

  async function roomWithAgent(owner: RawUser, name: string, members: RawUser[] = []): Promise<string> {
    const { room_id: room } = await owner.request<{ room_id: string }>(
      "POST",
      "/_matrix/client/v3/createRoom",
      {
        name,
        preset: "public_chat",
        invite: [FAQ],
      },
    );
    await owner.waitFor(
      room,
      (evs) => evs.some((e) => e.sender === FAQ && e.type === "m.room.message"),
      20_000,
    );
    for (const m of members)
      await m.request("POST", `/_matrix/client/v3/join/${encodeURIComponent(room)}`, {});
    return room;
  }

  it("refuses a tombstone whose replacement room does not name the old room: nothing moves", async () => {
    const alice = await RawUser.register(fixture.synapse, "alice");
    const mallory = await RawUser.register(fixture.synapse, "mallory");
    const roomA = await roomWithAgent(mallory, "mallory's room");
    expect(await ask(mallory, roomA, "!faq set wifi Log in at http://phish.example")).toMatch(/Saved/);
    const roomB = await roomWithAgent(alice, "alice's room", [mallory]);
    expect(await ask(mallory, roomB, "!faq wifi")).not.toContain("phish");

    await mallory.request(
      "PUT",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomA)}/state/m.room.tombstone/`,
      { body: "This room has moved", replacement_room: roomB },
    );
    // Give the bridge time to act on the tombstone, then look in both rooms.
    await sleep(3000);
    expect(await ask(alice, roomB, "!faq wifi")).not.toContain("phish");
    expect(await ask(alice, roomB, "!faq list")).not.toContain("wifi");
    // Mallory's own room keeps its entry: it was not moved anywhere.
    expect(await ask(mallory, roomA, "?wifi")).toContain("phish");
  });
});
