import { createWorld, body, T0, type World } from "./world";
import { ReminderStore } from "../../../src/agents/reminders/store";

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";
const DM = "!dm-alice:example.org";
const ROOM = "!team:example.org";
const MIN = 60_000;
const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
const advance = { advance: true };
const idOf = (text: string): string => /Id `([0-9a-z]{5})`/.exec(text)![1];

describe("conversation habits: replies, edits, threads, alarms that insist", () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld({}, { withTimer: true });
  });
  afterAll(async () => {
    await w.close();
  });
  beforeEach(async () => {
    await w.reset();
  });

  /** Someone's message in the room, as the bridge stored it. */
  async function message(sender: string, roomId: string, text: string): Promise<string> {
    const eventId = `$chat-${text.length}-${Math.round(Math.random() * 1e9)}`;
    await w.db.knex("inbound_events").insert({
      event_id: eventId,
      room_id: roomId,
      event_type: "m.room.message",
      sender,
      payload: JSON.stringify({
        event_id: eventId,
        room_id: roomId,
        type: "m.room.message",
        sender,
        origin_server_ts: T0.getTime(),
        content: { msgtype: "m.text", body: text },
      }),
    });
    return eventId;
  }

  it("reply to remind: quotes the message replied to and links to it", async () => {
    const original = await message(BOB, ROOM, "the deploy checklist is in the wiki");
    const [conf] = await w.say(ALICE, ROOM, "in 2 hours", { replyTo: original });
    expect(body(conf)).toContain("> the deploy checklist is in the wiki");
    const link = `https://matrix.to/#/${encodeURIComponent(ROOM)}/${encodeURIComponent(original)}`;
    expect(body(conf)).toContain(`(of [this message](${link}))`);
    const [delivery] = await w.fire(at(121));
    expect(body(delivery)).toMatch(/^⏰ @alice:example\.org: the deploy checklist is in the wiki\n/);
    expect(body(delivery)).toContain(`[The message](${link}) from ${BOB}`);
  });

  it("an edited reply-to-remind still quotes the message the original replied to", async () => {
    const original = await message(BOB, ROOM, "ship the release notes");
    await w.say(ALICE, ROOM, "in 2 hours", { replyTo: original });
    const command = w.lastEventId();
    await w.sendAll();
    const [edited] = await w.say(ALICE, ROOM, "in 3 hours", { edits: command });
    expect(String((edited.content["m.new_content"] as { body: string }).body)).toContain(
      "> ship the release notes",
    );
  });

  it("reply to remind with its own text keeps the text and links the message", async () => {
    const original = await message(BOB, ROOM, "can you review my PR?");
    const [conf] = await w.say(ALICE, ROOM, "in 1 hour review it", { replyTo: original });
    expect(body(conf)).toContain("> review it");
    const [delivery] = await w.fire(at(61));
    expect(body(delivery)).toContain("[The message](https://matrix.to/#/");
  });

  it("an edited command replaces its reminder and edits the confirmation in place: one delivery", async () => {
    const [conf] = await w.say(ALICE, DM, "in 10 minutes stretch", { isDirect: true });
    const command = w.lastEventId();
    const sent = await w.sendAll();
    const confirmationEvent = sent.get(conf.id)!;
    const [edited] = await w.say(ALICE, DM, "in 20 minutes stretch", { isDirect: true, edits: command });
    expect(edited.content["m.relates_to"]).toEqual({ rel_type: "m.replace", event_id: confirmationEvent });
    const inner = edited.content["m.new_content"] as Record<string, unknown>;
    expect(String(inner.body)).toMatch(/in 20 minutes:\n> stretch/);
    expect(String(inner.body)).toContain(
      `(This replaces \`${idOf(body(conf))}\`, set by the command you edited.)`,
    );
    expect(String(edited.content.body)).toMatch(/^\* ⏰/);
    const old = await new ReminderStore(w.db.knex).get(idOf(body(conf)));
    expect(old!.status).toBe("cancelled");
    expect(await w.fire(at(15))).toEqual([]);
    const deliveries = await w.fire(at(21));
    expect(deliveries).toHaveLength(1);
    expect(body(deliveries[0])).toMatch(/^⏰ @alice:example\.org: stretch/);
  });

  it("an edit that cannot be read keeps the earlier reminder, and says so", async () => {
    const [conf] = await w.say(ALICE, DM, "in 10 minutes stretch", { isDirect: true });
    const command = w.lastEventId();
    await w.sendAll();
    const [edited] = await w.say(ALICE, DM, "whenever stretch", { isDirect: true, edits: command });
    const inner = edited.content["m.new_content"] as Record<string, unknown>;
    expect(String(inner.body)).toMatch(
      /could not find a time.*\n\n\(Your earlier reminder `[0-9a-z]{5}` is unchanged\.\)$/s,
    );
    expect((await new ReminderStore(w.db.knex).get(idOf(body(conf))))!.status).toBe("active");
  });

  it("edits more than 10 minutes later are refused, and others' edits ignored", async () => {
    await w.say(ALICE, DM, "in 1 hour stretch", { isDirect: true });
    const command = w.lastEventId();
    expect(await w.say(BOB, DM, "in 2 hours stretch", { isDirect: true, edits: command })).toEqual([]);
    w.now = at(11);
    const [late] = await w.say(ALICE, DM, "in 2 hours stretch", { isDirect: true, edits: command });
    expect(body(late)).toBe(
      "I only take edits made within 10 minutes of a command. Send it again as a new message.",
    );
    expect(await new ReminderStore(w.db.knex).countActive(ALICE)).toBe(1);
  });

  it("an edited timer command replaces its timer", async () => {
    const [conf] = await w.say(ALICE, ROOM, "5 min tea", { agent: "timer" });
    const command = w.lastEventId();
    const sent = await w.sendAll();
    const [edited] = await w.say(ALICE, ROOM, "8 min tea", { agent: "timer", edits: command });
    expect(edited.content["m.relates_to"]).toEqual({ rel_type: "m.replace", event_id: sent.get(conf.id) });
    expect(await w.db.knex("timers").count({ n: "*" }).first()).toEqual({ n: expect.anything() });
    const rows = await w.db.knex("timers").select("duration_ms");
    expect(rows.map((r) => Number(r.duration_ms))).toEqual([8 * MIN]);
    expect(await w.fire(at(6))).toEqual([]);
    expect(await w.fire(at(9))).toHaveLength(1);
  });

  it("answers in the thread a command was sent in, and fires into it", async () => {
    const root = "$thread-root";
    const [conf] = await w.say(ALICE, ROOM, "in 10 minutes stretch", { threadId: root });
    const rel = conf.content["m.relates_to"] as Record<string, unknown>;
    expect(rel).toMatchObject({ rel_type: "m.thread", event_id: root, is_falling_back: false });
    expect(rel["m.in_reply_to"]).toEqual({ event_id: w.lastEventId() });
    const [delivery] = await w.fire(at(11));
    expect(delivery.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
    const [timer] = await w.say(ALICE, ROOM, "in 5 minutes", { threadId: root, agent: "timer" });
    expect(timer.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
    const [ring] = await w.fire(at(16));
    expect(ring.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
  });

  it("--until-ack repeats every 5 minutes until the owner reacts ✅", async () => {
    const [conf] = await w.say(ALICE, DM, "in 10 minutes take the pills --until-ack", { isDirect: true });
    expect(body(conf)).toContain("It repeats every 5 minutes until you react ✅ or reply `done`.");
    expect(body(conf)).toContain("> take the pills");
    const [first] = await w.fire(at(11), advance);
    expect(body(first)).toMatch(/^⏰ @alice:example\.org: take the pills\n/);
    const [again] = await w.fire(at(16), advance);
    expect(body(again)).toMatch(/^⏰ @alice:example\.org: take the pills _\(again, 1\/12\)_/);
    const sent = await w.sendAll();
    await w.react(BOB, DM, sent.get(again.id)!, "✅"); // not the owner: no effect
    expect(await w.fire(at(21), advance)).toHaveLength(1);
    const latest = await w.sendAll();
    await w.react(ALICE, DM, [...latest.values()][0], "✅");
    expect(await w.fire(at(60), advance)).toEqual([]);
  });

  it("--until-ack stops when the owner replies `done`", async () => {
    await w.say(ALICE, DM, "in 10 minutes stand up --until-ack", { isDirect: true });
    const [first] = await w.fire(at(11), advance);
    const sent = await w.sendAll();
    const [done] = await w.say(ALICE, DM, "done", { isDirect: true, replyTo: sent.get(first.id) });
    expect(body(done)).toMatch(/^✅ Done: `[0-9a-z]{5}` stops repeating\.$/);
    expect(await w.fire(at(30), advance)).toEqual([]);
  });

  it("--until-ack gives up after 12 repeats", async () => {
    await w.say(ALICE, DM, "in 10 minutes x --until-ack", { isDirect: true });
    let fired = 0;
    for (let m = 11; m < 11 + 5 * 20; m += 5) fired += (await w.fire(at(m), advance)).length;
    expect(fired).toBe(13);
  });
});

describe("the host's command observer (for metrics)", () => {
  it("is called once per command with its outcome", async () => {
    const seen: string[] = [];
    const w = await createWorld(
      {},
      { commandFinished: (agent, outcome, ms) => seen.push(`${agent}:${outcome}:${ms >= 0}`) },
    );
    try {
      await w.say(ALICE, DM, "in 10 minutes x", { isDirect: true });
      await w.say(ALICE, DM, "whenever x", { isDirect: true });
      await w.say(ALICE, DM, "help", { isDirect: true });
      expect(seen).toEqual(["reminders:ok:true", "reminders:user_error:true", "reminders:ok:true"]);
    } finally {
      await w.close();
    }
  });
});
