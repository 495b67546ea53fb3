import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * How people talk to agents on Matrix, on a real Synapse with matrix-js-sdk: natural phrasings
 * in a DM and with !remind in a room, reply-to-remind, an edited command replacing its
 * reminder, a command in a thread answered and fired in the thread, and a timer "in 5 minutes".
 */
const REMINDERS = "@_agent_reminders:localhost";
const TIMER = "@_agent_timer:localhost";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (ev: PlainEvent) => String(ev.content.body ?? "");
type Rel = { rel_type?: string; event_id?: string; "m.in_reply_to"?: { event_id?: string } };
const rel = (ev: PlainEvent) => (ev.content["m.relates_to"] ?? {}) as Rel;
const answers = (agent: string, eventId: string) => (ev: PlainEvent) =>
  ev.sender === agent && ev.content.msgtype === "m.notice" && rel(ev)["m.in_reply_to"]?.event_id === eventId;
const delivery = (marker: string) => (ev: PlainEvent) =>
  ev.sender === REMINDERS && ev.content.msgtype === "m.text" && text(ev).includes(marker);

describe("conversation habits on a real Synapse", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  let bob: Human;
  let dm: string;
  let room: string;

  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: { agents: { reminders: { min_interval_seconds: 1, late_note_seconds: 5 } } },
    });
    await fixture.startBridge();
    [alice, bob] = await Promise.all([
      createHuman(fixture.synapse, "alice"),
      createHuman(fixture.synapse, "bob"),
    ]);
    dm = await alice.createDm(REMINDERS);
    await alice.waitForMembership(dm, REMINDERS, "join");
    room = await alice.createRoom({ name: "team", invite: [bob.userId] });
    await alice.client.invite(room, REMINDERS);
    await alice.client.invite(room, TIMER);
    await alice.waitForMembership(room, REMINDERS, "join");
    await alice.waitForMembership(room, TIMER, "join");
    await bob.joinRoom(room);
  });

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()]);
    await fixture?.close();
  });

  it("`remind me in … to …` in a DM keeps only the text", async () => {
    const sent = await alice.sendText(dm, "remind me in 3 seconds to stretch");
    const confirmation = await alice.waitForEvent(dm, answers(REMINDERS, sent));
    expect(text(confirmation)).toMatch(/, in 3 seconds:\n> stretch\n/);
    const reminder = await alice.waitForEvent(dm, delivery("stretch"), 15_000);
    expect(text(reminder)).toMatch(new RegExp(`^⏰ ${alice.userId}: stretch\\n`));
  });

  it("`!remind … to …` in a room, time after the text", async () => {
    const sent = await alice.sendText(room, "!remind me to water the plants in 3 seconds");
    const confirmation = await alice.waitForEvent(room, answers(REMINDERS, sent));
    expect(text(confirmation)).toContain("> water the plants\n");
    await alice.waitForEvent(room, delivery("water the plants"), 15_000);
  });

  it("reply to remind: the delivery quotes and links the message replied to", async () => {
    const original = await bob.sendText(room, "the release notes are due on the wiki");
    await alice.waitForEvent(room, (ev) => ev.event_id === original);
    const sent = await alice.sendContent(room, {
      msgtype: "m.text",
      body: "!remind in 3 seconds",
      "m.relates_to": { "m.in_reply_to": { event_id: original } },
    });
    const confirmation = await alice.waitForEvent(room, answers(REMINDERS, sent));
    expect(text(confirmation)).toContain("> the release notes are due on the wiki");
    const reminder = await alice.waitForEvent(room, delivery("release notes"), 15_000);
    const link = `https://matrix.to/#/${encodeURIComponent(room)}/${encodeURIComponent(original)}`;
    expect(text(reminder)).toContain(`[The message](${link}) from ${bob.userId}`);
  });

  it("an edited command replaces its reminder: the confirmation is edited, one delivery", async () => {
    const sent = await alice.sendText(room, "!remind in 6 seconds edited tea");
    const confirmation = await alice.waitForEvent(room, answers(REMINDERS, sent));
    await alice.sendContent(room, {
      msgtype: "m.text",
      body: "* !remind in 2 seconds edited tea",
      "m.new_content": { msgtype: "m.text", body: "!remind in 2 seconds edited tea" },
      "m.relates_to": { rel_type: "m.replace", event_id: sent },
    });
    const edit = await alice.waitForEvent(
      room,
      (ev) =>
        ev.sender === REMINDERS &&
        rel(ev).rel_type === "m.replace" &&
        rel(ev).event_id === confirmation.event_id,
    );
    expect(String((edit.content["m.new_content"] as { body: string }).body)).toMatch(
      /in 2 seconds:\n> edited tea/,
    );
    await alice.waitForEvent(room, delivery("edited tea"), 15_000);
    await sleep(7_000); // past the original's 6 seconds
    expect(alice.timeline(room).filter(delivery("edited tea"))).toHaveLength(1);
  });

  it("a command in a thread is answered in the thread, and fires into it", async () => {
    const root = await bob.sendText(room, "planning thread");
    await alice.waitForEvent(room, (ev) => ev.event_id === root);
    const sent = await alice.sendContent(room, {
      msgtype: "m.text",
      body: "!remind in 3 seconds thread check",
      "m.relates_to": {
        rel_type: "m.thread",
        event_id: root,
        is_falling_back: true,
        "m.in_reply_to": { event_id: root },
      },
    });
    const confirmation = await alice.waitForEvent(
      room,
      (ev) =>
        ev.sender === REMINDERS &&
        rel(ev).rel_type === "m.thread" &&
        rel(ev)["m.in_reply_to"]?.event_id === sent,
    );
    expect(rel(confirmation).event_id).toBe(root);
    const reminder = await alice.waitForEvent(room, delivery("thread check"), 15_000);
    expect(rel(reminder)).toMatchObject({ rel_type: "m.thread", event_id: root });
  });

  it("a timer `in 5 minutes`", async () => {
    const sent = await alice.sendText(room, "!timer in 5 minutes");
    const reply = await alice.waitForEvent(room, answers(TIMER, sent));
    expect(text(reply)).toMatch(/^⏱️ Timer set for 5m: it ends /);
    const named = await alice.sendText(room, "!timer 5 min tea");
    expect(text(await alice.waitForEvent(room, answers(TIMER, named)))).toMatch(
      /^⏱️ Timer \*\*tea\*\* set for 5m/,
    );
  });

  it("agents show their bundled avatar, uploaded once: a restart re-uses the same mxc", async () => {
    const avatar = async () => (await alice.client.getProfileInfo(REMINDERS)).avatar_url;
    const first = await avatar();
    expect(first).toMatch(/^mxc:\/\/localhost\/\w+/);
    await fixture.stopBridge();
    await fixture.startBridge();
    expect(await avatar()).toBe(first);
  });
});
