import { parseReminder, parseSnooze, type ParseOptions } from "../../../src/agents/reminders/parse";
import { describeRecurrence } from "../../../src/agents/reminders/recurrence";

/**
 * The parsing table: input, timezone and a fixed "now" → the UTC instant it means. Expected
 * instants are worked out by hand from the zone rules (not copied from the parser's output):
 *
 * - NOW_SPRING = Sat 2026-03-28 22:30Z: 23:30 CET in Berlin (clocks go 02:00 → 03:00 CEST on
 *   Sun 29 Mar), 18:30 EDT in New York (US DST began 8 Mar).
 * - NOW_AUTUMN = Sat 2026-10-24 20:00Z: 22:00 CEST in Berlin (03:00 CEST → 02:00 CET on Sun 25
 *   Oct), 16:00 EDT in New York (US DST ends Sun 1 Nov, 02:00 EDT → 01:00 EST).
 * - NOW_US_SPRING = Sat 2026-03-07 20:00Z: 15:00 EST in New York (02:00 → 03:00 EDT on Sun 8 Mar).
 */
const NOW_SPRING = new Date("2026-03-28T22:30:00Z");
const NOW_AUTUMN = new Date("2026-10-24T20:00:00Z");
const NOW_US_SPRING = new Date("2026-03-07T20:00:00Z");
const BER = "Europe/Berlin";
const NY = "America/New_York";
const UTC = "UTC";

const opts = (now: Date, zone: string, minIntervalSeconds = 60): ParseOptions => ({
  now,
  zone,
  minIntervalMs: minIntervalSeconds * 1000,
});

type Row = [input: string, zone: string, now: Date, expectedUtc: string, message: string];

const TABLE: Row[] = [
  // Relative durations: hours and less are physical time, days and more keep the wall clock.
  ["in 10 minutes stretch", BER, NOW_SPRING, "2026-03-28T22:40:00Z", "stretch"],
  ["in 1 hour deploy", BER, NOW_SPRING, "2026-03-28T23:30:00Z", "deploy"],
  ["in 3 hours x", BER, NOW_SPRING, "2026-03-29T01:30:00Z", "x"],
  ["in 1 day x", BER, NOW_SPRING, "2026-03-29T21:30:00Z", "x"], // 23:30 CEST next day: 23 h later
  ["in 2 weeks x", BER, NOW_SPRING, "2026-04-11T21:30:00Z", "x"],
  ["in 1h30m tea", BER, NOW_SPRING, "2026-03-29T00:00:00Z", "tea"],
  ["in half an hour x", BER, NOW_SPRING, "2026-03-28T23:00:00Z", "x"],
  ["in 90 seconds x", BER, NOW_SPRING, "2026-03-28T22:31:30Z", "x"],
  ["in an hour and 15 minutes to call mum", BER, NOW_SPRING, "2026-03-28T23:45:00Z", "call mum"],
  ["stretch in 10 minutes", BER, NOW_SPRING, "2026-03-28T22:40:00Z", "stretch"],
  ["in 3 days at 5pm x", BER, NOW_SPRING, "2026-03-31T15:00:00Z", "x"], // chrono reads more than "3 days"
  // Calendar words, read in the user's zone.
  ["tomorrow at 9am standup", BER, NOW_SPRING, "2026-03-29T07:00:00Z", "standup"], // 09:00 CEST
  ["at 17:30 go home", BER, NOW_SPRING, "2026-03-29T15:30:00Z", "go home"], // passed today → tomorrow
  ["at 23:45 x", BER, NOW_SPRING, "2026-03-28T22:45:00Z", "x"], // still today, CET
  ["tomorrow at 1:30 x", BER, NOW_SPRING, "2026-03-29T00:30:00Z", "x"], // before the switch, CET
  ["tomorrow at 2:30 x", BER, NOW_SPRING, "2026-03-29T01:30:00Z", "x"], // does not exist → 03:30 CEST
  ["tomorrow at 3:00 x", BER, NOW_SPRING, "2026-03-29T01:00:00Z", "x"], // first CEST hour
  ["tomorrow standup", BER, NOW_SPRING, "2026-03-29T07:00:00Z", "standup"], // a day alone → 09:00
  ["monday 10am review", BER, NOW_SPRING, "2026-03-30T08:00:00Z", "review"],
  ["next friday at 3pm review", BER, NOW_SPRING, "2026-04-03T13:00:00Z", "review"],
  ["friday 14:00 demo", BER, NOW_SPRING, "2026-04-03T12:00:00Z", "demo"],
  ["at noon lunch", BER, NOW_SPRING, "2026-03-29T10:00:00Z", "lunch"],
  ["2026-04-02 14:00 dentist", BER, NOW_SPRING, "2026-04-02T12:00:00Z", "dentist"],
  ["december 25 9am presents", BER, NOW_SPRING, "2026-12-25T08:00:00Z", "presents"], // CET again
  ["call bob at 5pm", BER, NOW_SPRING, "2026-03-29T15:00:00Z", "call bob"],
  ["standup tomorrow at 9am", BER, NOW_SPRING, "2026-03-29T07:00:00Z", "standup"],
  ["at 5pm EST x", BER, NOW_SPRING, "2026-03-29T22:00:00Z", "x"], // the text's own offset wins
  ["tomorrow at 9am standup", NY, NOW_SPRING, "2026-03-29T13:00:00Z", "standup"], // 09:00 EDT
  ["at 17:30 go home", NY, NOW_SPRING, "2026-03-29T21:30:00Z", "go home"], // passed in NY too
  ["at 19:00 dinner", NY, NOW_SPRING, "2026-03-28T23:00:00Z", "dinner"], // still ahead in NY
  ["in 10 minutes x", NY, NOW_SPRING, "2026-03-28T22:40:00Z", "x"],
  ["tomorrow at 9am x", UTC, NOW_SPRING, "2026-03-29T09:00:00Z", "x"],
  ["at 17:30 x", UTC, NOW_SPRING, "2026-03-29T17:30:00Z", "x"],
  // Autumn: the repeated hour resolves to its first occurrence.
  ["tomorrow at 2:30 x", BER, NOW_AUTUMN, "2026-10-25T00:30:00Z", "x"], // 02:30 CEST
  ["tomorrow at 3:30 x", BER, NOW_AUTUMN, "2026-10-25T02:30:00Z", "x"], // CET
  ["tomorrow at 9am x", BER, NOW_AUTUMN, "2026-10-25T08:00:00Z", "x"],
  ["in 1 day x", BER, NOW_AUTUMN, "2026-10-25T21:00:00Z", "x"], // 22:00 CET: 25 h later
  ["in 6 hours x", BER, NOW_AUTUMN, "2026-10-25T02:00:00Z", "x"],
  ["tomorrow at 9am x", NY, NOW_AUTUMN, "2026-10-25T13:00:00Z", "x"],
  ["on november 1 at 9am x", NY, NOW_AUTUMN, "2026-11-01T14:00:00Z", "x"], // EST
  ["on november 1 at 1:30 x", NY, NOW_AUTUMN, "2026-11-01T05:30:00Z", "x"], // first 01:30 (EDT)
  // US spring gap.
  ["tomorrow at 2:30 x", NY, NOW_US_SPRING, "2026-03-08T07:30:00Z", "x"], // → 03:30 EDT
  ["tomorrow at 9am x", NY, NOW_US_SPRING, "2026-03-08T13:00:00Z", "x"],
  ["in 1 day x", NY, NOW_US_SPRING, "2026-03-08T19:00:00Z", "x"],
  ["in 24 hours x", NY, NOW_US_SPRING, "2026-03-08T20:00:00Z", "x"],
  // Recurring: the first firing.
  ["every day at 9:00 standup", BER, NOW_SPRING, "2026-03-29T07:00:00Z", "standup"],
  ["every 2 hours drink water", BER, NOW_SPRING, "2026-03-29T00:30:00Z", "drink water"],
  ["every monday at 10:00 review", BER, NOW_SPRING, "2026-03-30T08:00:00Z", "review"],
  ["every weekday at 8:30 mail", BER, NOW_SPRING, "2026-03-30T06:30:00Z", "mail"],
  ["every sat and sun at 10:00 sleep in", BER, NOW_SPRING, "2026-03-29T08:00:00Z", "sleep in"],
  ["daily at 7am run", BER, NOW_SPRING, "2026-03-29T05:00:00Z", "run"],
  ["every 30m x", BER, NOW_SPRING, "2026-03-28T23:00:00Z", "x"],
  ["every 2 days at 18:00 water the plants", UTC, NOW_SPRING, "2026-03-29T18:00:00Z", "water the plants"],
  ["cron 0 9 * * 1-5 standup", BER, NOW_SPRING, "2026-03-30T07:00:00Z", "standup"],
  ["cron 0 9 * * 1-5 standup", NY, NOW_SPRING, "2026-03-30T13:00:00Z", "standup"],
  ["cron 30 2 * * * night job", BER, NOW_SPRING, "2026-03-29T01:00:00Z", "night job"], // gap → 03:00
];

describe("reminder parsing table", () => {
  it("has at least 40 rows", () => expect(TABLE.length).toBeGreaterThanOrEqual(40));

  it.each(TABLE)("%s (%s, now %p) → %s", (input, zone, now, expected, message) => {
    const parsed = parseReminder(input, opts(now, zone));
    expect(parsed.dueAt.toISOString()).toBe(new Date(expected).toISOString());
    expect(parsed.message).toBe(message);
  });
});

describe("recurrence in words", () => {
  it.each([
    ["every day at 9:00 standup", "every day at 09:00"],
    ["every 2 hours drink water", "every 2 hours"],
    ["every hour x", "every hour"],
    ["every monday at 10:00 review", "every Monday at 10:00"],
    ["every mon, wed and fri at 7pm gym", "every Monday, Wednesday and Friday at 19:00"],
    ["every weekday at 8:30 mail", "every weekday (Monday to Friday) at 08:30"],
    ["every weekend at 10 x", "every weekend day (Saturday and Sunday) at 10:00"],
    ["every other day at 18:00 x", "every 2 days at 18:00"],
    ["every week x", "every week at 09:00"],
    ["cron 0 9 * * 1-5 standup", "every weekday (Monday to Friday) at 09:00 (cron `0 9 * * 1-5`)"],
    ["cron 0 9 1 * * rent", "on day 1 of every month at 09:00 (cron `0 9 1 * *`)"],
    ["cron 0 9 1-7 * 1 first monday", "on the cron schedule `0 9 1-7 * 1`"],
  ])("%s → %s", (input, words) => {
    const parsed = parseReminder(input, opts(NOW_SPRING, BER));
    expect(parsed.recurrence).toBeDefined();
    expect(describeRecurrence(parsed.recurrence!)).toBe(words);
  });

  it("keeps one-off reminders without a recurrence", () => {
    expect(parseReminder("in 5 minutes x", opts(NOW_SPRING, BER)).recurrence).toBeUndefined();
  });

  it("stores the user's zone in the recurrence", () => {
    expect(parseReminder("every day at 9:00 x", opts(NOW_SPRING, NY)).recurrence).toMatchObject({
      type: "cron",
      expr: "0 9 * * *",
      zone: NY,
    });
  });
});

describe("rejects, with a message that says why", () => {
  it.each<[string, RegExp]>([
    ["", /Tell me when and what/],
    ["in 10 minutes", /What should I remind you of\?/],
    ["every day at 9:00", /What should I remind you of\?/],
    ["blah blah", /I could not find a time in that\. Try `in 10 minutes stretch`/],
    ["yesterday at 9 x", /That time \(Fri 27 Mar 2026, 09:00\) is in the past/],
    ["at 10 on 2025-01-01 x", /is in the past/],
    ["tomorrow at 25:00 x", /I could not read the time in “at 25:00”/],
    ["in 20 years x", /more than 10 years away/],
    [
      "every 30 seconds x",
      /repeats too often \(every 30 seconds\); reminders may repeat at most every 1 minute/,
    ],
    ["cron 0 9 * *", /exactly 5 fields .* I found 4/],
    ["cron 0 0 9 * * * standup", /exactly 5 fields .* I found 6/],
    ["cron 0 9 * * 8 x", /`0 9 \* \* 8` is not a valid cron schedule: Invalid value for dayOfWeek: 8/],
    ["every blue moon x", /I could not read how often to repeat after “every”/],
    ["every day at 9:75 x", /I could not read the time “at 9:75”/],
    ["every 0 hours x", /at least 1/],
  ])("%p", (input, message) => {
    expect(() => parseReminder(input, opts(NOW_SPRING, BER))).toThrow(message);
  });

  it("allows every minute at the default minimum and refuses it above", () => {
    expect(parseReminder("cron * * * * * x", opts(NOW_SPRING, BER)).dueAt.toISOString()).toBe(
      "2026-03-28T22:31:00.000Z",
    );
    expect(() => parseReminder("cron * * * * * x", opts(NOW_SPRING, BER, 120))).toThrow(
      /repeats too often \(every 1 minute\); reminders may repeat at most every 2 minutes/,
    );
  });

  it("accepts short intervals when the minimum is lowered (e2e config)", () => {
    const parsed = parseReminder("every 3 seconds ping", opts(NOW_SPRING, BER, 1));
    expect(parsed.dueAt.toISOString()).toBe("2026-03-28T22:30:03.000Z");
  });
});

describe("snooze lengths", () => {
  it.each([
    ["15m", { minutes: 15 }],
    ["1 hour", { hours: 1 }],
    ["2 days", { days: 2 }],
    ["1h30m", { hours: 1, minutes: 30 }],
  ])("%s", (text, parts) => expect(parseSnooze(text)).toEqual(parts));

  it("refuses what is not a duration", () => {
    expect(() => parseSnooze("later")).toThrow(/I could not read “later” as a duration/);
    expect(() => parseSnooze("0m")).toThrow(/as a duration/);
  });
});
