import {
  canonicalZone,
  humanizeMs,
  readWholeDuration,
  relative,
  wallClockToInstant,
} from "../../../src/agents/kit";
import { readTimeOfDay } from "../../../src/agents/kit/time/timeOfDay";
import { tokenize } from "../../../src/agents/kit/time/tokens";
import { readDuration, ZERO } from "../../../src/agents/kit/time/duration";

const d = (parts: Partial<typeof ZERO>) => ({ ...ZERO, ...parts });
const timeOf = (text: string, bare: boolean) => readTimeOfDay(tokenize(text), 0, { bare });

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
  ])("%s", (text, parts) => expect(readWholeDuration(text)).toEqual(d(parts)));

  it("reads a prefix and says where it ends", () => {
    expect(readDuration(tokenize("10 minutes stretch"), 0)).toMatchObject({
      duration: d({ minutes: 10 }),
      end: 2,
    });
    expect(readDuration(tokenize("5 pushups"), 0)).toBeUndefined();
    expect(readDuration(tokenize("a walk"), 0)).toBeUndefined();
    expect(() => readWholeDuration("1.5 months")).toThrow(/whole numbers/);
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
    ["9.30am", false, 9, 30],
    ["5", true, 17, 0],
    ["05:00", false, 5, 0],
    ["9am", false, 9, 0],
    ["12am", false, 0, 0],
    ["12pm", false, 12, 0],
    ["9:30 pm", false, 21, 30],
    ["noon", false, 12, 0],
    ["midnight", false, 0, 0],
    ["9", true, 9, 0],
  ])("%s", (text, bare, hour, minute) => {
    expect(timeOf(text, bare)).toMatchObject({ hour, minute });
  });

  it("refuses what is not a time", () => {
    expect(timeOf("9", false)).toBeUndefined();
    expect(timeOf("5 pushups", false)).toBeUndefined();
    expect(() => timeOf("25:00", true)).toThrow(/not a time of day/);
    expect(() => timeOf("9:75", true)).toThrow(/not a time of day/);
    expect(() => timeOf("13pm", true)).toThrow(/not a time of day/);
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
