import { createWorld, body, T0, type World } from "./world";
import { ReminderStore } from "../../../src/agents/reminders/store";
import { resolveAgents } from "../../../src/agents/agentConfig";
import { parseConfig } from "../../../src/config/bridgeConfig";
import { remindersAgent } from "../../../src/agents/reminders";

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";
const DM = "!dm-alice:example.org";
const ROOM = "!team:example.org";
const MIN = 60_000;
const HOUR = 60 * MIN;

const idOf = (text: string): string => /Id `([0-9a-z]{5})`/.exec(text)![1];
const inMinutes = (n: number) => new Date(T0.getTime() + n * MIN);

describe("Reminders agent (host, scheduler and store; no homeserver)", () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld({ max_active_per_user: 3, max_message_length: 40 });
  });
  afterAll(async () => {
    await w.close();
  });
  beforeEach(async () => {
    await w.reset();
  });

  it("confirms with the time in the user's zone, how far away it is, and a short id", async () => {
    const [reply] = await w.say(ALICE, DM, "in 10 minutes stretch", { isDirect: true });
    expect(reply.content.msgtype).toBe("m.notice");
    expect(body(reply)).toMatch(
      /^⏰ I'll remind you \*\*\w{3} \d+ \w{3} \d{4}, \d\d:\d\d(:\d\d)?\*\* \(UTC\), in 10 minutes:/,
    );
    expect(body(reply)).toContain("> stretch");
    const id = idOf(body(reply));
    const r = await new ReminderStore(w.db.knex).get(id);
    expect(r).toMatchObject({ owner: ALICE, roomId: DM, message: "stretch", status: "active" });
    expect(await w.schedules.countPending("reminders")).toBe(1);
  });

  it("reads times in the timezone set with tz, and explains bad zones", async () => {
    const [bad] = await w.say(ALICE, DM, "tz Mars/Olympus", { isDirect: true });
    expect(body(bad)).toMatch(
      /“Mars\/Olympus” is not a timezone I know\. Use an IANA name such as `Europe\/Berlin`/,
    );
    const [ok] = await w.say(ALICE, DM, "tz america/new_york", { isDirect: true });
    expect(body(ok)).toMatch(/^Your timezone is now \*\*America\/New_York\*\*/);
    const [shown] = await w.say(ALICE, DM, "tz", { isDirect: true });
    expect(body(shown)).toMatch(/^Your timezone is \*\*America\/New_York\*\*/);
    const [reply] = await w.say(ALICE, DM, "tomorrow at 9am standup", { isDirect: true });
    expect(body(reply)).toMatch(/, 09:00\*\* \(America\/New_York\), in /);
    const r = await new ReminderStore(w.db.knex).get(idOf(body(reply)));
    const local = new Intl.DateTimeFormat("en-GB", {
      timeZone: "America/New_York",
      hour: "2-digit",
      minute: "2-digit",
    }).format(r!.nextDueAt!);
    expect(local).toBe("09:00");
  });

  it("moves recurring reminders to a new timezone", async () => {
    const [set] = await w.say(ALICE, DM, "every day at 9:00 standup", { isDirect: true });
    const id = idOf(body(set));
    const [reply] = await w.say(ALICE, DM, "tz Asia/Tokyo", { isDirect: true });
    expect(body(reply)).toContain("1 recurring reminder now follows it.");
    const r = await new ReminderStore(w.db.knex).get(id);
    expect(r!.recurrence).toMatchObject({ zone: "Asia/Tokyo", expr: "0 9 * * *" });
    expect(r!.nextDueAt!.getUTCHours()).toBe(0); // 09:00 JST
    const item = await w.schedules.get(w.db.knex, r!.itemId!);
    expect(item!.dueAt).toEqual(r!.nextDueAt);
  });

  it("limits active reminders and message length per user, with clear errors", async () => {
    for (let i = 0; i < 3; i++) await w.say(ALICE, DM, `in ${i + 1} hours r${i}`, { isDirect: true });
    const [full] = await w.say(ALICE, DM, "in 5 hours one more", { isDirect: true });
    expect(body(full)).toBe(
      "You already have 3 active reminders, the most I keep per person. Cancel some first (`list` shows them, `cancel <id>` removes one).",
    );
    const [long] = await w.say(BOB, DM, `in 1 hour ${"x".repeat(41)}`, { isDirect: true });
    expect(body(long)).toBe("That reminder is 41 characters long; the limit is 40.");
    const [huge] = await w.say(BOB, DM, `in 1 hour ${"x".repeat(5000)}`, { isDirect: true });
    expect(body(huge)).toBe("That reminder is too long for me (5,010 characters; I read at most 240).");
    expect(await new ReminderStore(w.db.knex).countActive(BOB)).toBe(0);
  });

  it("refuses @room reminders to people below the room's notifications.room level", async () => {
    const [refused] = await w.say(BOB, ROOM, "room in 1 hour deploy");
    expect(body(refused)).toBe(
      "Notifying the whole room (@room) needs power level 50 here, and yours is 0. Leave out `room` to be reminded yourself, or ask a moderator to set it.",
    );
    const [inDm] = await w.say(ALICE, DM, "room in 1 hour deploy", { isDirect: true });
    expect(body(inDm)).toMatch(/^`room` reminders notify everyone in a group room/);
    w.facts.set(ROOM, ALICE, 50);
    const [ok] = await w.say(ALICE, ROOM, "room in 1 hour deploy");
    expect(body(ok)).toMatch(/^⏰ I'll notify \*\*the whole room\*\*/);
    const [delivery] = await w.fire(new Date(T0.getTime() + 2 * HOUR));
    expect(delivery.content["m.mentions"]).toEqual({ user_ids: [ALICE], room: true });
    expect(body(delivery)).toMatch(/^⏰ @room: deploy\nSet by @alice:example\.org\./);
  });

  it("drops @room at delivery when the owner lost the power, and says so", async () => {
    w.facts.set(ROOM, ALICE, 100);
    await w.say(ALICE, ROOM, "room in 1 hour deploy");
    w.facts.set(ROOM, ALICE, 0);
    const [delivery] = await w.fire(new Date(T0.getTime() + 2 * HOUR));
    expect(delivery.content["m.mentions"]).toEqual({ user_ids: [ALICE] });
    expect(body(delivery)).toContain(
      "Not notifying the whole room: @alice:example.org may no longer use @room here.",
    );
  });

  it("delivers as m.text mentioning the owner, then is done", async () => {
    const [conf] = await w.say(ALICE, DM, "in 10 minutes stretch", { isDirect: true });
    expect(await w.fire(inMinutes(5))).toEqual([]);
    const [delivery] = await w.fire(inMinutes(11));
    expect(delivery.roomId).toBe(DM);
    expect(delivery.sender).toBe("@_agent_reminders:example.org");
    expect(delivery.content.msgtype).toBe("m.text");
    expect(delivery.content["m.mentions"]).toEqual({ user_ids: [ALICE] });
    expect(body(delivery)).toMatch(/^⏰ @alice:example\.org: stretch\n`[0-9a-z]{5}` · reply `snooze 15m`/);
    expect(body(delivery)).not.toContain("late");
    const r = await new ReminderStore(w.db.knex).get(idOf(body(conf)));
    expect(r).toMatchObject({ status: "done", firedCount: 1 });
    expect(await w.fire(inMinutes(60))).toEqual([]);
  });

  it("repeats a recurring reminder with repeatAt, and says when it comes next", async () => {
    const [conf] = await w.say(ALICE, DM, "every 2 hours drink water", { isDirect: true });
    expect(body(conf)).toContain("Repeats every 2 hours.");
    const id = idOf(body(conf));
    const first = (await new ReminderStore(w.db.knex).get(id))!.nextDueAt!;
    const [one] = await w.fire(new Date(first.getTime() + 1000));
    expect(body(one)).toMatch(/next: .* \(UTC\) · reply `cancel` to stop it/);
    const r = (await new ReminderStore(w.db.knex).get(id))!;
    expect(r.nextDueAt!.getTime()).toBe(first.getTime() + 2 * HOUR);
    expect(r.firedCount).toBe(1);
    const [two] = await w.fire(new Date(first.getTime() + 2 * HOUR + 1000));
    expect(body(two)).toMatch(/^⏰ @alice:example\.org: drink water/);
    expect((await new ReminderStore(w.db.knex).get(id))!.firedCount).toBe(2);
  });

  it("says how late a delivery is after downtime, and how many times a recurring one missed", async () => {
    const [conf] = await w.say(ALICE, DM, "every 30 minutes stand up", { isDirect: true });
    const id = idOf(body(conf));
    // As if the bridge had been down: the first firing fell due 1 h 50 min ago.
    const r = (await new ReminderStore(w.db.knex).get(id))!;
    const due = new Date(T0.getTime() - 110 * MIN);
    await w.db.knex("scheduled_items").where({ id: r.itemId! }).update({ due_at: due });
    await w.db
      .knex("reminders")
      .where({ id })
      .update({ recurrence: JSON.stringify({ ...r.recurrence, anchor: due.toISOString() }) });
    const [late] = await w.fire(T0);
    // Missed: due+30, due+60, due+90 min; the next is due+120 min, 10 minutes from now.
    expect(body(late)).toContain(
      "_Delivered 1 hour 50 minutes late: the bridge was offline._ _It also missed 3 earlier times._",
    );
    const next = (await new ReminderStore(w.db.knex).get(id))!.nextDueAt!;
    expect(next.getTime()).toBeGreaterThan(T0.getTime());
    expect(next.getTime()).toBeLessThanOrEqual(T0.getTime() + 30 * MIN);
  });

  it("cancels by id and by replying `cancel` to the confirmation; nothing fires after", async () => {
    const [a] = await w.say(ALICE, DM, "in 10 minutes a", { isDirect: true });
    const [b] = await w.say(ALICE, DM, "in 10 minutes b", { isDirect: true });
    const [byId] = await w.say(ALICE, DM, `cancel ${idOf(body(a)).toUpperCase()}`, { isDirect: true });
    expect(body(byId)).toBe(`Cancelled \`${idOf(body(a))}\`: a`);
    const sent = await w.sendAll();
    const [byReply] = await w.say(ALICE, DM, "cancel", { isDirect: true, replyTo: sent.get(b.id) });
    expect(body(byReply)).toBe(`Cancelled \`${idOf(body(b))}\`: b`);
    expect(await w.fire(inMinutes(20))).toEqual([]);
    const [again] = await w.say(ALICE, DM, `cancel ${idOf(body(a))}`, { isDirect: true });
    expect(body(again)).toMatch(/^I have no active reminder `[0-9a-z]{5}`/);
    const [noTarget] = await w.say(ALICE, DM, "cancel", { isDirect: true });
    expect(body(noTarget)).toMatch(/^Which reminder\? Use `cancel <id>`/);
  });

  it("lets only the owner, a bridge admin or a room moderator cancel", async () => {
    const [conf] = await w.say(ALICE, ROOM, "in 10 minutes a");
    const id = idOf(body(conf));
    const [denied] = await w.say(BOB, ROOM, `cancel ${id}`);
    expect(body(denied)).toBe(`\`${id}\` belongs to ${ALICE}; only they can cancel it.`);
    w.facts.set(ROOM, BOB, 50);
    const [allowed] = await w.say(BOB, ROOM, `cancel ${id}`);
    expect(body(allowed)).toBe(`Cancelled \`${id}\`: a`);
  });

  it("snoozes: pushes a pending one back, brings a delivered one back, adds a firing to a recurring one", async () => {
    const [conf] = await w.say(ALICE, DM, "in 10 minutes tea", { isDirect: true });
    const id = idOf(body(conf));
    const store = new ReminderStore(w.db.knex);
    const before = (await store.get(id))!.nextDueAt!;
    const [pushed] = await w.say(ALICE, DM, `snooze ${id} 15m`, { isDirect: true });
    expect(body(pushed)).toMatch(/^😴 Snoozed `[0-9a-z]{5}` until .*, in 25 minutes\.$/);
    expect((await store.get(id))!.nextDueAt!.getTime()).toBe(before.getTime() + 15 * MIN);
    expect(await w.fire(inMinutes(20))).toEqual([]);
    const [delivery] = await w.fire(inMinutes(26));
    const sent = await w.sendAll();
    // Replying "snooze 5m" to the delivery brings it back.
    const [back] = await w.say(ALICE, DM, "snooze 5m", { isDirect: true, replyTo: sent.get(delivery.id) });
    expect(body(back)).toMatch(/in 5 minutes\.$/);
    expect((await store.get(id))!.status).toBe("active");
    const [again] = await w.fire(inMinutes(6));
    expect(body(again)).toMatch(/^⏰ @alice:example\.org: tea/);

    const [rec] = await w.say(ALICE, DM, "every day at 9:00 standup", { isDirect: true });
    const recId = idOf(body(rec));
    const regular = (await store.get(recId))!.nextDueAt!;
    await w.say(ALICE, DM, `snooze ${recId} 10m`, { isDirect: true });
    const [extra] = await w.fire(inMinutes(11));
    expect(body(extra)).toMatch(/^⏰ @alice:example\.org: standup/);
    const after = (await store.get(recId))!;
    expect(after.nextDueAt).toEqual(regular); // the daily schedule is untouched
    expect(after.snoozeDueAt).toBeNull();
  });

  it("subscribes whoever reacts 👍 to the confirmation, and unsubscribes on redaction", async () => {
    const [conf] = await w.say(ALICE, ROOM, "in 10 minutes standup");
    const [other] = await w.say(ALICE, ROOM, "in 10 minutes retro");
    const sent = await w.sendAll();
    await w.react(BOB, ROOM, sent.get(conf.id)!);
    await w.react(ALICE, ROOM, sent.get(conf.id)!); // the owner: no-op
    await w.react("@carol:example.org", ROOM, sent.get(conf.id)!, "❤️"); // not 👍
    const reaction = await w.react(BOB, ROOM, sent.get(other.id)!, "👍🏻");
    await w.redact(BOB, ROOM, reaction);
    const [list] = await w.say(ALICE, ROOM, "list");
    expect(body(list)).toMatch(/· \+1 subscriber · standup/);
    const deliveries = await w.fire(inMinutes(11));
    const standup = deliveries.find((d) => body(d).includes("standup"))!;
    const retro = deliveries.find((d) => body(d).includes("retro"))!;
    expect(standup.content["m.mentions"]).toEqual({ user_ids: [ALICE, BOB] });
    expect(body(standup)).toMatch(/^⏰ @alice:example\.org, @bob:example\.org: standup/);
    expect(retro.content["m.mentions"]).toEqual({ user_ids: [ALICE] });
  });

  it("a subscriber's `cancel` only unsubscribes them", async () => {
    const [conf] = await w.say(ALICE, ROOM, "in 10 minutes standup");
    const sent = await w.sendAll();
    await w.react(BOB, ROOM, sent.get(conf.id)!);
    const [reply] = await w.say(BOB, ROOM, `cancel ${idOf(body(conf))}`);
    expect(body(reply)).toMatch(
      /^You will no longer be reminded by `[0-9a-z]{5}` \(it stays on for @alice:example\.org\)\.$/,
    );
    const [delivery] = await w.fire(inMinutes(11));
    expect(delivery.content["m.mentions"]).toEqual({ user_ids: [ALICE] });
  });

  it("lists mine (all rooms in a DM, this room in a group) and everyone's with `list all`", async () => {
    await w.say(ALICE, DM, "in 1 hour private thing", { isDirect: true });
    await w.say(ALICE, ROOM, "every day at 9:00 standup");
    await w.say(BOB, ROOM, "in 2 hours bob's thing");
    const [dmList] = await w.say(ALICE, DM, "list", { isDirect: true });
    expect(body(dmList)).toMatch(
      /^Your reminders \(times in UTC\):\n- .*private thing\n- .*repeats every day at 09:00 · in !team:example\.org · standup$/,
    );
    const [roomMine] = await w.say(ALICE, ROOM, "list");
    expect(body(roomMine)).not.toContain("private thing");
    expect(body(roomMine)).toContain("standup");
    const [roomAll] = await w.say(ALICE, ROOM, "list all");
    expect(body(roomAll)).toMatch(/^Reminders in this room \(times in UTC\):/);
    expect(body(roomAll)).toContain("by @bob:example.org · bob's thing");
    expect(body(roomAll)).not.toContain("private thing");
    const [bobs] = await w.say(BOB, DM, "list", { isDirect: true });
    expect(body(bobs)).toMatch(
      /^Your reminders \(times in UTC\):\n- .* · in !team:example\.org · bob's thing$/,
    );
    const [none] = await w.say("@carol:example.org", DM, "list", { isDirect: true });
    expect(body(none)).toBe("Your reminders: none.");
  });

  it("moves active reminders to the new room on upgrade and says so there", async () => {
    const [conf] = await w.say(ALICE, ROOM, "in 10 minutes standup");
    await w.upgrade(ROOM, "!team2:example.org");
    const [delivery] = await w.fire(inMinutes(11));
    expect(delivery.roomId).toBe("!team2:example.org");
    const notice = (await w.outbox.listForRoom("!team2:example.org"))[0];
    expect(body(notice)).toBe("This room replaced the old one, so 1 reminder will go off here from now on.");
    expect((await new ReminderStore(w.db.knex).get(idOf(body(conf))))!.roomId).toBe("!team2:example.org");
  });

  it("answers help and parse errors as replies", async () => {
    const [help] = await w.say(ALICE, DM, "", { isDirect: true });
    expect(body(help)).toContain("`cron 0 9 * * 1-5 standup`");
    const [err] = await w.say(ALICE, DM, "whenever stretch", { isDirect: true });
    expect(body(err)).toMatch(/^I could not find a time in that\. Try `in 10 minutes stretch`/);
  });
});

describe("Reminders config", () => {
  it("has defaults and rejects unknown keys and bad values", () => {
    const base = { homeserver: { url: "http://h", domain: "example.org" } };
    const [agent] = resolveAgents(parseConfig(base, {}), [remindersAgent], {});
    expect(agent.config).toEqual({
      max_active_per_user: 50,
      max_message_length: 1000,
      min_interval_seconds: 60,
      late_note_seconds: 60,
    });
    expect(() =>
      resolveAgents(
        parseConfig({ ...base, agents: { reminders: { max_active: 3 } } }, {}),
        [remindersAgent],
        {},
      ),
    ).toThrow(/agents\.reminders\.max_active.*unknown key/);
    expect(() =>
      resolveAgents(
        parseConfig({ ...base, agents: { reminders: { min_interval_seconds: 0 } } }, {}),
        [remindersAgent],
        {},
      ),
    ).toThrow(/agents\.reminders\.min_interval_seconds.*at least 1/);
    const [fromEnv] = resolveAgents(parseConfig(base, {}), [remindersAgent], {
      MAB_AGENTS_REMINDERS_MAX_ACTIVE_PER_USER: "7",
    });
    expect(fromEnv.config.max_active_per_user).toBe(7);
  });
});
