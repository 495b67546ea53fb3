import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * The Reminders agent against a real Synapse, driven by matrix-js-sdk as the humans. Short
 * intervals and a low late-note threshold come from the agent's own config section.
 */
const AGENT = "@_agent_reminders:localhost";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (ev: PlainEvent) => String(ev.content.body ?? "");
const isNotice = (ev: PlainEvent) => ev.sender === AGENT && ev.content.msgtype === "m.notice";
const repliesTo = (eventId: string) => (ev: PlainEvent) =>
  isNotice(ev) &&
  (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
    ?.event_id === eventId;
/** A delivered reminder: m.text from the agent whose body contains `marker`. */
const delivery = (marker: string) => (ev: PlainEvent) =>
  ev.sender === AGENT && ev.content.msgtype === "m.text" && text(ev).includes(marker);
const mentions = (ev: PlainEvent) =>
  (ev.content["m.mentions"] ?? {}) as { user_ids?: string[]; room?: boolean };
const idIn = (ev: PlainEvent) => /Id `([0-9a-z]{5})`/.exec(text(ev))![1];

describe("Reminders agent on a real Synapse", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  let bob: Human;
  let dm: string;

  /** Sends a command and returns the agent's reply to it. */
  async function command(human: Human, roomId: string, body: string): Promise<PlainEvent> {
    const sent = await human.sendText(roomId, body);
    return human.waitForEvent(roomId, repliesTo(sent));
  }

  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: { agents: { reminders: { min_interval_seconds: 1, late_note_seconds: 2 } } },
    });
    await fixture.startBridge();
    [alice, bob] = await Promise.all([
      createHuman(fixture.synapse, "alice"),
      createHuman(fixture.synapse, "bob"),
    ]);
    dm = await alice.createDm(AGENT);
    await alice.waitForMembership(dm, AGENT, "join");
    await alice.waitForEvent(dm, (ev) => isNotice(ev) && text(ev).includes("I remind you"));
  });

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()]);
    await fixture?.close();
  });

  it("sets a reminder in a DM and delivers it, mentioning the user", async () => {
    const sentAt = Date.now();
    const confirmation = await command(alice, dm, "in 3 seconds stretch");
    expect(text(confirmation)).toMatch(/^⏰ I'll remind you \*\*.*\*\* \(UTC\), in 3 seconds:\n> stretch\n/);
    const reminder = await alice.waitForEvent(dm, delivery("stretch"), 15_000);
    expect(mentions(reminder).user_ids).toEqual([alice.userId]);
    expect(text(reminder)).toMatch(new RegExp(`^⏰ ${alice.userId}: stretch`));
    expect(reminder.origin_server_ts).toBeGreaterThanOrEqual(sentAt + 3_000 - 1_000);
    expect(text(reminder)).not.toContain("late");
  });

  it("fires a recurring reminder twice, and `cancel <id>` stops it", async () => {
    const confirmation = await command(alice, dm, "every 3 seconds drink water");
    expect(text(confirmation)).toContain("Repeats every 3 seconds.");
    const id = idIn(confirmation);
    const twice = (ev: PlainEvent) =>
      delivery("drink water")(ev) && alice.timeline(dm).filter(delivery("drink water")).length >= 2;
    await alice.waitForEvent(dm, twice, 15_000);
    const [first, second] = alice.timeline(dm).filter(delivery("drink water"));
    expect(second.origin_server_ts - first.origin_server_ts).toBeGreaterThanOrEqual(2_000);
    expect(text(second)).toMatch(/next: .* · reply `cancel` to stop it/);

    const cancelled = await command(alice, dm, `cancel ${id}`);
    expect(text(cancelled)).toBe(`Cancelled \`${id}\`: drink water`);
    await sleep(3_500); // a third firing was due 3 s after the second
    const after = alice
      .timeline(dm)
      .filter((ev) => delivery("drink water")(ev) && ev.origin_server_ts > cancelled.origin_server_ts);
    expect(after).toEqual([]);
  });

  it("cancels by replying `cancel` to the confirmation: the reminder never arrives", async () => {
    const confirmation = await command(alice, dm, "in 3 seconds never arrives");
    const { event_id: replyId } = await alice.client.sendEvent(
      dm,
      "m.room.message" as never,
      {
        msgtype: "m.text",
        body: "cancel",
        "m.relates_to": { "m.in_reply_to": { event_id: confirmation.event_id } },
      } as never,
    );
    const answer = await alice.waitForEvent(dm, repliesTo(replyId));
    expect(text(answer)).toBe(`Cancelled \`${idIn(confirmation)}\`: never arrives`);
    await sleep(4_000);
    expect(alice.timeline(dm).filter(delivery("never arrives"))).toEqual([]);
  });

  it("delivers a reminder that fell due while the bridge was stopped, late, with a note", async () => {
    await command(alice, dm, "in 2 seconds while you were away");
    await fixture.stopBridge();
    await sleep(5_000);
    await fixture.startBridge();
    const late = await alice.waitForEvent(dm, delivery("while you were away"), 20_000);
    expect(text(late)).toMatch(/_Delivered \d+ seconds late: the bridge was offline\._/);
    expect(mentions(late).user_ids).toEqual([alice.userId]);
  });

  describe("in a group room", () => {
    let room: string;

    beforeAll(async () => {
      room = await alice.createRoom({ name: "team", invite: [bob.userId] });
      await alice.client.invite(room, AGENT);
      await alice.waitForMembership(room, AGENT, "join");
      await bob.joinRoom(room);
      await alice.waitForMembership(room, bob.userId, "join");
    });

    it("subscribes a second user who reacts 👍 to the confirmation; removing the reaction unsubscribes", async () => {
      const team = await command(alice, room, "!remind in 5 seconds team sync");
      const solo = await command(alice, room, "!remind in 5 seconds solo task");
      await bob.waitForEvent(room, (ev) => ev.event_id === solo.event_id);
      await bob.client.sendEvent(
        room,
        "m.reaction" as never,
        {
          "m.relates_to": { rel_type: "m.annotation", event_id: team.event_id, key: "👍" },
        } as never,
      );
      const { event_id: takenBack } = await bob.client.sendEvent(
        room,
        "m.reaction" as never,
        {
          "m.relates_to": { rel_type: "m.annotation", event_id: solo.event_id, key: "👍" },
        } as never,
      );
      await bob.client.redactEvent(room, takenBack);

      const teamReminder = await bob.waitForEvent(room, delivery("team sync"), 15_000);
      expect(mentions(teamReminder).user_ids).toEqual([alice.userId, bob.userId]);
      expect(text(teamReminder)).toMatch(new RegExp(`^⏰ ${alice.userId}, ${bob.userId}: team sync`));
      const soloReminder = await alice.waitForEvent(room, delivery("solo task"), 15_000);
      expect(mentions(soloReminder).user_ids).toEqual([alice.userId]);
    });

    it("pings @room only for people whose power level allows it", async () => {
      const refused = await command(bob, room, "!remind room in 1 hour deploy");
      expect(text(refused)).toMatch(
        /^Notifying the whole room \(@room\) needs power level 50 here, and yours is 0\./,
      );
      await command(alice, room, "!remind room in 2 seconds deploy now");
      const ping = await bob.waitForEvent(room, delivery("deploy now"), 15_000);
      expect(mentions(ping)).toEqual({ user_ids: [alice.userId], room: true });
      expect(text(ping)).toMatch(/^⏰ @room: deploy now/);
    });
  });
});
