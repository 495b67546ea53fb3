import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * An encrypted group room with two humans (matrix-js-sdk Rust crypto) and two agents: commands,
 * a timer ringing and a reminder firing after a restart, all encrypted and read by both humans.
 */
describe("an encrypted group room", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  let bob: Human;
  let room: string;
  const TIMER = "@_agent_timer:localhost";
  const REMINDERS = "@_agent_reminders:localhost";
  const text = (ev: PlainEvent) => String(ev.content.body ?? "");
  const from = (agent: string, marker: string) => (ev: PlainEvent) =>
    ev.sender === agent && text(ev).includes(marker);
  const readable = (ev: PlainEvent) => ev.encrypted?.decrypted === true;

  /** Both humans read the same encrypted event. */
  async function bothRead(predicate: (ev: PlainEvent) => boolean, timeoutMs = 20_000): Promise<PlainEvent> {
    const seen = await alice.waitForEvent(room, (ev) => readable(ev) && predicate(ev), timeoutMs);
    const bobSees = await bob.waitForEvent(
      room,
      (ev) => ev.event_id === seen.event_id && readable(ev),
      timeoutMs,
    );
    expect(readable(seen)).toBe(true);
    expect(readable(bobSees)).toBe(true);
    expect(text(bobSees)).toBe(text(seen));
    return seen;
  }

  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: { bridge: { invite_allow: ["@alice:localhost"] }, encryption: { enabled: true } },
    });
    await fixture.startBridge();
    alice = await createHuman(fixture.synapse, "alice", { encrypted: true });
    bob = await createHuman(fixture.synapse, "bob", { encrypted: true });
    room = await alice.createRoom({
      name: "team",
      invite: [bob.userId, TIMER, REMINDERS],
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
      ],
    });
    await bob.joinRoom(room);
    for (const agent of [TIMER, REMINDERS]) await alice.waitForMembership(room, agent, "join");
    await alice.waitForMembership(room, bob.userId, "join");
  });

  afterAll(async () => {
    await bob?.stop();
    await alice?.stop();
    await fixture?.close();
  });

  it("answers both humans' commands, encrypted, and rings a timer there", async () => {
    await alice.sendText(room, "!timer 2s tea");
    const set = await bothRead(from(TIMER, "**tea**"));
    expect(text(set)).toMatch(/Timer \*\*tea\*\* set for 2s/);
    const rang = await bothRead(from(TIMER, "your timer **tea** (2s) is done"));
    expect(rang.content.msgtype).toBe("m.text");

    await bob.sendText(room, "!remind in 1 hour standup notes");
    const confirmed = await bothRead(from(REMINDERS, "standup notes"));
    expect(text(confirmed)).toContain("standup notes");
    expect(alice.timeline(room).filter((e) => e.encrypted?.failed)).toEqual([]);
    expect(bob.timeline(room).filter((e) => e.encrypted?.failed)).toEqual([]);
  });

  it("fires a reminder into the encrypted room after a bridge restart", async () => {
    await alice.sendText(room, "!remind in 4 seconds after the restart");
    await bothRead(from(REMINDERS, "after the restart"));
    await fixture.stopBridge();
    await fixture.startBridge();
    const fired = await bothRead(
      (ev) => from(REMINDERS, "after the restart")(ev) && ev.content.msgtype === "m.text",
      30_000,
    );
    expect(fired.content.msgtype).toBe("m.text");
    await bob.sendText(room, "!timer 1s coffee");
    await bothRead(from(TIMER, "your timer **coffee** (1s) is done"));
    expect(alice.timeline(room).filter((e) => e.encrypted?.failed)).toEqual([]);
    expect(bob.timeline(room).filter((e) => e.encrypted?.failed)).toEqual([]);
  });
});
