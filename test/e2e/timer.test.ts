import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * The Timer agent on a real Synapse, driven by matrix-js-sdk: a short timer rings with a
 * mention of its owner, and a timer survives a bridge restart (rung late, with a note, when
 * it fell due while the bridge was down).
 */
const TIMER = "@_agent_timer:localhost";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (ev: PlainEvent) => String(ev.content.body ?? "");
const isNotice = (ev: PlainEvent) => ev.sender === TIMER && ev.content.msgtype === "m.notice";
const repliesTo = (eventId: string) => (ev: PlainEvent) =>
  isNotice(ev) &&
  (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
    ?.event_id === eventId;
/** A timer ringing: m.text from the agent whose body contains `marker`. */
const ring = (marker: string) => (ev: PlainEvent) =>
  ev.sender === TIMER && ev.content.msgtype === "m.text" && text(ev).includes(marker);
const mentions = (ev: PlainEvent) => (ev.content["m.mentions"] ?? {}) as { user_ids?: string[] };

describe("Timer agent on a real Synapse", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  let room: string;

  async function say(body: string): Promise<PlainEvent> {
    const sent = await alice.sendText(room, body);
    return alice.waitForEvent(room, repliesTo(sent));
  }

  beforeAll(async () => {
    fixture = await BridgeFixture.create({ config: { agents: { timer: { late_note_after_seconds: 2 } } } });
    await fixture.startBridge();
    alice = await createHuman(fixture.synapse, "alice");
    room = await alice.createRoom({ name: "kitchen" });
    await alice.client.invite(room, TIMER);
    await alice.waitForMembership(room, TIMER, "join");
    await alice.waitForEvent(room, (ev) => isNotice(ev) && text(ev).includes("!timer help"));
  });

  afterAll(async () => {
    await alice?.stop();
    await fixture?.close();
  });

  it("rings a 3-second timer with a mention of its owner", async () => {
    const started = Date.now();
    const confirmation = await say("!timer 3 seconds eggs");
    expect(text(confirmation)).toMatch(
      /^⏱️ Timer \*\*eggs\*\* set for 3s: it ends \d\d:\d\d:\d\d \(UTC\)\. Id `\w{5}`/,
    );
    const rang = await alice.waitForEvent(room, ring("eggs"), 15_000);
    expect(rang.origin_server_ts).toBeGreaterThanOrEqual(started + 3_000 - 500);
    expect(rang.content.msgtype).toBe("m.text");
    expect(mentions(rang).user_ids).toEqual([alice.userId]);
    expect(text(rang)).toBe(`⏰ ${alice.userId}: your timer **eggs** (3s) is done.`);
  });

  it("lists, pauses, adds to and cancels timers by name and id", async () => {
    const id = /Id `(\w{5})`/.exec(text(await say("!timer 1h30m tea")))![1];
    expect(text(await say("!timer list"))).toMatch(
      /^Your timers here \(1\):\n- \*\*tea\*\* \(`\w{5}`\): 1h (29m \d+s|30m) left, ends /,
    );
    expect(text(await say("!timer pause tea"))).toMatch(
      /^Paused \*\*tea\*\* .* with 1h (29m \d+s|30m) left\./,
    );
    expect(text(await say(`!timer add ${id} 5m`))).toMatch(
      /^Added 5m to \*\*tea\*\* .*\(paused, 1h (34m \d+s|35m) left\)/,
    );
    expect(text(await say("!timer resume tea"))).toMatch(/^Resumed \*\*tea\*\*/);
    expect(text(await say("!timer cancel tea"))).toMatch(/^Cancelled \*\*tea\*\*/);
    expect(text(await say("!timer list"))).toBe("You have no timers in this room.");
  });

  it("keeps a timer across a bridge restart and rings it late, with a note, after downtime", async () => {
    const confirmation = await say("!timer 3s pizza");
    expect(text(confirmation)).toContain("**pizza**");
    await fixture.stopBridge();
    await sleep(5_000); // it falls due while the bridge is down
    expect(alice.timeline(room).some(ring("pizza"))).toBe(false);
    await fixture.startBridge();
    const rang = await alice.waitForEvent(room, ring("pizza"), 20_000);
    expect(mentions(rang).user_ids).toEqual([alice.userId]);
    expect(text(rang)).toMatch(
      /^⏰ @alice:localhost: your timer \*\*pizza\*\* \(3s\) is done\.\n\n\(\d+s late: I was offline when it ended\.\)$/,
    );
    await sleep(1_500);
    expect(alice.timeline(room).filter(ring("pizza"))).toHaveLength(1);
  });

  it("keeps a running timer across a quick restart and rings it on time", async () => {
    const started = Date.now();
    await say("!timer 8s bread");
    await fixture.stopBridge();
    await fixture.startBridge();
    const rang = await alice.waitForEvent(room, ring("bread"), 20_000);
    expect(rang.origin_server_ts).toBeGreaterThanOrEqual(started + 8_000 - 500);
    expect(text(rang)).toBe(`⏰ ${alice.userId}: your timer **bread** (8s) is done.`);
  });
});
