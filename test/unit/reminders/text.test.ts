import {
  humanizeMs,
  parseDuration,
  parseDurationPrefix,
  relative,
} from "../../../src/agents/reminders/duration";
import { ID_ALPHABET, ID_LENGTH, newReminderId, normalizeId } from "../../../src/agents/reminders/ids";
import { parseCommand } from "../../../src/agents/reminders/command";
import { canonicalZone, parseTimeOfDay, wallClockToInstant } from "../../../src/agents/reminders/time";
import { isThumbsUp } from "../../../src/agents/reminders/events";

describe("ids", () => {
  it("are 5 characters of Crockford base32", () => {
    for (let i = 0; i < 1000; i++) {
      const id = newReminderId();
      expect(id).toHaveLength(ID_LENGTH);
      expect([...id].every((c) => ID_ALPHABET.includes(c))).toBe(true);
    }
    expect(ID_ALPHABET).not.toMatch(/[ilou]/);
  });

  it("are spread out: 10 000 draws give (almost) no repeats", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newReminderId()));
    expect(ids.size).toBeGreaterThan(9_990);
  });

  it("uses the random source it is given", () => {
    let n = 0;
    expect(newReminderId(() => n++)).toBe("01234");
  });

  it("forgives case, look-alike letters and decoration", () => {
    expect(normalizeId("K3X9P")).toBe("k3x9p");
    expect(normalizeId("`k3x9p`")).toBe("k3x9p");
    expect(normalizeId("#k3x9p")).toBe("k3x9p");
    expect(normalizeId("O1IL0")).toBe("01110");
    expect(normalizeId("k3x9")).toBeUndefined();
    expect(normalizeId("k3x9pq")).toBeUndefined();
    expect(normalizeId("k3u9p")).toBeUndefined();
  });
});

describe("durations", () => {
  it.each([
    ["10 minutes", { minutes: 10 }],
    ["10min", { minutes: 10 }],
    ["1h30m", { hours: 1, minutes: 30 }],
    ["an hour", { hours: 1 }],
    ["half an hour", { minutes: 30 }],
    ["1.5 hours", { hours: 1, minutes: 30 }],
    ["2 days and 3 hours", { days: 2, hours: 3 }],
    ["1 week, 2 days", { weeks: 1, days: 2 }],
    ["3 months", { months: 3 }],
    ["90s", { seconds: 90 }],
  ])("%s", (text, parts) => expect(parseDuration(text)).toEqual(parts));

  it("reads a prefix and says where it ends", () => {
    expect(parseDurationPrefix("10 minutes stretch")).toEqual({ parts: { minutes: 10 }, length: 10 });
    expect(parseDurationPrefix("5 pushups")).toBeUndefined();
    expect(parseDurationPrefix("a walk")).toBeUndefined();
    expect(parseDuration("1.5 months")).toBeUndefined();
  });

  it.each([
    [600_000, "10 minutes"],
    [3_600_000, "1 hour"],
    [3_900_000, "1 hour 5 minutes"],
    [7_205_000, "2 hours"],
    [45_000, "45 seconds"],
    [90_061_000, "1 day 1 hour"],
    [10 * 86_400_000, "10 days"],
    [90 * 86_400_000, "3 months"],
    [3 * 365 * 86_400_000, "3 years"],
  ])("%d ms → %s", (ms, words) => expect(humanizeMs(ms)).toBe(words));

  it("says in / ago", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(relative(new Date("2026-01-01T00:10:00Z"), now)).toBe("in 10 minutes");
    expect(relative(new Date("2025-12-31T22:00:00Z"), now)).toBe("2 hours ago");
  });
});

describe("times of day and zones", () => {
  it.each([
    ["9:30", true, 9, 30],
    ["17:30", false, 17, 30],
    ["9.30", false, 9, 30],
    ["9am", false, 9, 0],
    ["12am", false, 0, 0],
    ["12pm", false, 12, 0],
    ["9:30 pm", false, 21, 30],
    ["noon", false, 12, 0],
    ["midnight", false, 0, 0],
    ["9", true, 9, 0],
  ])("%s", (text, bare, hour, minute) => {
    expect(parseTimeOfDay(text, bare)).toMatchObject({ hour, minute });
  });

  it("refuses what is not a time", () => {
    expect(parseTimeOfDay("9", false)).toBeUndefined();
    expect(parseTimeOfDay("25:00", true)).toBeUndefined();
    expect(parseTimeOfDay("9:75", true)).toBeUndefined();
    expect(parseTimeOfDay("13pm", true)).toBeUndefined();
    expect(parseTimeOfDay("5 pushups", false)).toBeUndefined();
  });

  it("canonicalises IANA names and refuses the rest", () => {
    expect(canonicalZone("Europe/Berlin")).toBe("Europe/Berlin");
    expect(canonicalZone("europe/berlin")).toBe("Europe/Berlin");
    expect(canonicalZone("utc")).toBe("UTC");
    expect(canonicalZone("Mars/Olympus_Mons")).toBeUndefined();
    expect(canonicalZone("+02:00")).toBeUndefined();
    expect(canonicalZone("")).toBeUndefined();
  });

  it("maps wall clocks in gaps forward and in overlaps to the first instant", () => {
    const at = (wall: string, zone: string) => {
      const [d, t] = wall.split(" ");
      const [year, month, day] = d.split("-").map(Number);
      const [hour, minute] = t.split(":").map(Number);
      return wallClockToInstant({ year, month, day, hour, minute }, zone).toISOString();
    };
    expect(at("2026-03-29 02:30", "Europe/Berlin")).toBe("2026-03-29T01:30:00.000Z");
    expect(at("2026-10-25 02:30", "Europe/Berlin")).toBe("2026-10-25T00:30:00.000Z");
    expect(at("2026-11-01 01:30", "America/New_York")).toBe("2026-11-01T05:30:00.000Z");
    // Lord Howe moves its clocks by 30 minutes: 02:00 → 02:30 in October, 02:00 → 01:30 in April.
    expect(at("2026-10-04 02:15", "Australia/Lord_Howe")).toBe("2026-10-03T15:45:00.000Z");
    expect(at("2026-04-05 01:45", "Australia/Lord_Howe")).toBe("2026-04-04T14:45:00.000Z");
  });
});

describe("command grammar", () => {
  it.each([
    ["", { kind: "help" }],
    ["help", { kind: "help" }],
    ["list", { kind: "list", scope: "mine" }],
    ["list all", { kind: "list", scope: "room" }],
    ["list room", { kind: "list", scope: "room" }],
    ["cancel k3x9p", { kind: "cancel", ids: ["k3x9p"] }],
    ["cancel K3X9P 7hgt2", { kind: "cancel", ids: ["k3x9p", "7hgt2"] }],
    ["cancel", { kind: "cancel", ids: [] }],
    ["snooze k3x9p 15m", { kind: "snooze", id: "k3x9p", duration: "15m" }],
    ["snooze k3x9p", { kind: "snooze", id: "k3x9p" }],
    ["snooze 15m", { kind: "snooze", duration: "15m" }],
    ["snooze 15min", { kind: "snooze", duration: "15min" }],
    ["snooze 3kx9p 1 hour", { kind: "snooze", id: "3kx9p", duration: "1 hour" }],
    ["tz Europe/Berlin", { kind: "tz", zone: "Europe/Berlin" }],
    ["tz", { kind: "tz" }],
    ["room in 1 hour deploy", { kind: "set", spec: "in 1 hour deploy", mentionRoom: true }],
    ["in 10 minutes stretch", { kind: "set", spec: "in 10 minutes stretch", mentionRoom: false }],
    // Not sub-commands after all: they set reminders.
    [
      "list groceries in 10 minutes",
      { kind: "set", spec: "list groceries in 10 minutes", mentionRoom: false },
    ],
    [
      "cancel dentist tomorrow at 9",
      { kind: "set", spec: "cancel dentist tomorrow at 9", mentionRoom: false },
    ],
  ])("%p", (args, command) => expect(parseCommand(args)).toEqual(command));
});

describe("reaction keys", () => {
  it.each([
    ["👍", true],
    ["👍️", true],
    ["👍🏽", true],
    ["+1", true],
    ["👎", false],
    ["❤️", false],
  ])("%s → %s", (key, yes) => expect(isThumbsUp(key)).toBe(yes));
});
