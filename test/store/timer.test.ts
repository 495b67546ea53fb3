import { timerAgent } from "../../src/agents/timer";
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
import { TimerStore } from "../../src/agents/timer/store";
import type { Database } from "../../src/store/database";
import { AgentHarness } from "../unit/faq/agentHarness";
import { backendCases, closeTestDatabase } from "./databases";

const ALICE = "@alice:test";
const BOB = "@bob:test";

/** The id in a confirmation ("Id `abcde`"). */
const idOf = (text: string) => /Id `([a-z0-9]{5})`/.exec(text)![1];

describe.each(backendCases())("Timer agent on %s", (_name, backend) => {
  let db: Database;
  let h: AgentHarness;
  let room: string;
  let n = 0;
  beforeAll(async () => {
    db = await backend.open();
    h = await AgentHarness.create(timerAgent, {
      db,
      config: { max_timers_per_user: 3, max_duration_days: 30 },
    });
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    room = `!room${++n}:test`;
    h.sent.length = 0;
    h.now = new Date("2025-03-01T12:00:00Z");
    // Each test starts with no timers (the limit per user counts every room).
    await db.knex("timers").del();
    await db.knex("scheduled_items").del();
    await db.knex("user_prefs").del();
  });
  const say = (who: string, text: string, where = room) => h.say(who, where, text);

  it("starts a timer, schedules it, and rings with a mention of its owner when it ends", async () => {
    const confirm = await say(ALICE, "1h30m tea");
    expect(confirm).toMatch(
      /^⏱️ Timer \*\*tea\*\* set for 1h 30m: it ends 13:30:00 \(UTC\)\. Id `[a-z0-9]{5}`; `!timer cancel [a-z0-9]{5}` stops it\.$/,
    );
    expect(await h.pendingItems()).toBe(1);
    h.advance(90 * MINUTE - SECOND);
    expect(await h.fireDue()).toBe(0);
    h.advance(SECOND);
    expect(await h.fireDue()).toBe(1);
    expect(h.sent.at(-1)).toEqual({
      roomId: room,
      markdown: "⏰ @alice:test: your timer **tea** (1h 30m) is done.",
      msgtype: "m.text",
      mentions: [ALICE],
      replyTo: undefined,
    });
    expect(await new TimerStore(db.knex).byOwner(ALICE)).toEqual([]);
    expect(await h.pendingItems()).toBe(0);
  });

  it("accepts the forms from the design and names timers", async () => {
    expect(await say(ALICE, "10m")).toMatch(/^⏱️ Timer set for 10m: it ends 12:10:00/);
    expect(await say(ALICE, "90 seconds")).toMatch(/set for 1m 30s/);
    expect(await say(ALICE, "2 days laundry")).toMatch(/\*\*laundry\*\* set for 2d: it ends Mon 3 Mar 12:00/);
    h.advance(2 * DAY);
    expect(await h.fireDue()).toBe(3);
    expect(h.sent.slice(-3).map((m) => m.markdown)).toEqual([
      expect.stringMatching(/your 1m 30s timer is done\.\n\n\(1d 23h late: I was offline when it ended\.\)$/),
      expect.stringMatching(/your 10m timer is done\.\n\n\(1d 23h late/),
      "⏰ @alice:test: your timer **laundry** (2d) is done.",
    ]);
  });

  it("`until` uses the user's timezone (shared with the other agents)", async () => {
    // `tz` itself is the core's (test/unit/timezone.test.ts); here the setting is simply there.
    await db.knex("user_prefs").insert({ user_id: ALICE, timezone: "Europe/Berlin" });
    // 12:00 UTC = 13:00 in Berlin; 15:00 Berlin is 2 hours away.
    expect(await say(ALICE, "until 15:00 meeting")).toMatch(
      /^⏱️ Timer \*\*meeting\*\* set for 2h: it ends 15:00:00 \(Europe\/Berlin\)/,
    );
    expect(await say(ALICE, "until 9:00 standup")).toMatch(
      /set for 20h: it ends tomorrow 09:00 \(Europe\/Berlin\)/,
    );
    expect(await say(ALICE, "until 3 meeting")).toMatch(
      /I could not find a time in that\. Try `!timer until 15:00 meeting`/,
    );
  });

  it("lists the sender's timers here with the time left", async () => {
    await say(ALICE, "25m pomodoro");
    await say(ALICE, "5m");
    await say(ALICE, "1h elsewhere", "!other:test");
    await say(BOB, "10m bob's");
    h.advance(2 * MINUTE);
    expect((await say(ALICE, "list")).split("\n")).toEqual([
      "Your timers here (2):",
      expect.stringMatching(/^- timer `[a-z0-9]{5}`: 3m left, ends 12:05:00 \(UTC\)$/),
      expect.stringMatching(/^- \*\*pomodoro\*\* \(`[a-z0-9]{5}`\): 23m left, ends 12:25:00 \(UTC\)$/),
      "",
      "You have 1 more in other rooms.",
    ]);
    expect(await say(BOB, "list", "!empty:test")).toBe(
      "You have no timers in this room.\n\nYou have 1 more in other rooms.",
    );
  });

  it("cancels by name or id, only the sender's own", async () => {
    const id = idOf(await say(ALICE, "10m tea"));
    await say(ALICE, "20m Pasta Water");
    expect(await say(BOB, "cancel tea")).toMatch(/You have no timer called “tea”/);
    expect(await say(BOB, `cancel ${id}`)).toMatch(/You have no timer called/);
    expect(await say(ALICE, "cancel pasta water")).toMatch(
      /^Cancelled \*\*Pasta Water\*\* \(`[a-z0-9]{5}`\) \(20m were left\)\.$/,
    );
    expect(await say(ALICE, `cancel ${id.toUpperCase()}`)).toBe(
      `Cancelled **tea** (\`${id}\`) (10m were left).`,
    );
    expect(await h.pendingItems()).toBe(0);
    h.advance(HOUR);
    expect(await h.fireDue()).toBe(0);
    expect(h.sent.some((m) => m.msgtype === "m.text")).toBe(false);
  });

  it("asks for the id when several timers share a name", async () => {
    await say(ALICE, "10m tea");
    await say(ALICE, "20m tea");
    expect(await say(ALICE, "cancel tea")).toMatch(
      /^Several of your timers are called “tea”: `\w{5}`, `\w{5}`\. Use the id\.$/,
    );
  });

  it("pause keeps the remaining time; resume and add continue from it", async () => {
    const id = idOf(await say(ALICE, "10m tea"));
    h.advance(4 * MINUTE);
    expect(await say(ALICE, "pause tea")).toBe(
      `Paused **tea** (\`${id}\`) with 6m left. \`!timer resume ${id}\` continues it.`,
    );
    expect(await say(ALICE, "pause tea")).toMatch(/already paused/);
    expect(await h.pendingItems()).toBe(0);
    h.advance(3 * HOUR);
    expect(await h.fireDue()).toBe(0);
    expect(await say(ALICE, "list")).toMatch(/tea\*\* \(`\w{5}`\): paused, 6m left/);
    expect(await say(ALICE, "add tea 5m")).toBe(`Added 5m to **tea** (\`${id}\`) (paused, 11m left).`);
    expect(await say(ALICE, "resume tea")).toBe(
      `Resumed **tea** (\`${id}\`): 11m left, it ends 15:15:00 (UTC).`,
    );
    expect(await say(ALICE, "resume tea")).toMatch(/is not paused/);
    h.advance(MINUTE);
    expect(await say(ALICE, `add ${id} 1 hour`)).toBe(
      `Added 1h to **tea** (\`${id}\`): 1h 10m left, it ends 16:15:00 (UTC).`,
    );
    h.advance(70 * MINUTE - SECOND);
    expect(await h.fireDue()).toBe(0);
    h.advance(SECOND);
    expect(await h.fireDue()).toBe(1);
    expect(h.sent.at(-1)?.markdown).toBe("⏰ @alice:test: your timer **tea** (1h 15m) is done.");
  });

  it("works for weeks: the due time is stored, not held in a process timer", async () => {
    await say(ALICE, "3 weeks vacation");
    h.advance(3 * WEEK - MINUTE);
    expect(await h.fireDue()).toBe(0);
    expect(await say(ALICE, "list")).toMatch(/vacation\*\* \(`\w{5}`\): 1m left/);
    h.advance(MINUTE);
    expect(await h.fireDue()).toBe(1);
  });

  it("enforces the per-user limits with clear errors", async () => {
    expect(await say(ALICE, "31 days")).toBe("That is longer than the limit of 30 days (4w 3d asked).");
    await say(ALICE, "29 days long");
    expect(await say(ALICE, "add long 2 days")).toMatch(/longer than the limit of 30 days/);
    await say(ALICE, "1m");
    await say(ALICE, "2m", "!other:test");
    expect(await say(ALICE, "3m")).toBe(
      "You have 3 timers already (the limit is 3). Cancel one with `!timer cancel <name or id>`.",
    );
    expect(await say(BOB, "3m")).toMatch(/^⏱️/); // per user
    expect(await say(ALICE, `5m ${"x".repeat(101)}`)).toMatch(/name is too long/);
    expect(await say(ALICE, "90")).toMatch(/90 what\?/);
  });

  it("moves running timers to the new room on an upgrade", async () => {
    await say(ALICE, "10m tea");
    await h.upgrade(room, "!new:test");
    h.advance(10 * MINUTE);
    expect(await h.fireDue()).toBe(1);
    expect(h.sent.at(-1)?.roomId).toBe("!new:test");
  });

  it("ignores a stale scheduled item (timer cancelled while its item fires)", async () => {
    const id = idOf(await say(ALICE, "1m"));
    // Simulate the race: the timer row is gone but the item is still pending.
    await db.knex("timers").where({ id }).del();
    h.advance(MINUTE);
    expect(await h.fireDue()).toBe(1);
    expect(h.sent.some((m) => m.msgtype === "m.text")).toBe(false);
  });
});
