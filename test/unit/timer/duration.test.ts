import {
  DAY,
  HOUR,
  MINUTE,
  SECOND,
  WEEK,
  formatDuration,
  parseDuration,
  splitDuration,
} from "../../../src/agents/timer/duration";

describe("duration parser", () => {
  const ACCEPTED: [string, number][] = [
    ["10m", 10 * MINUTE],
    ["1h30m", HOUR + 30 * MINUTE],
    ["90 seconds", 90 * SECOND],
    ["2 days", 2 * DAY],
    ["45s", 45 * SECOND],
    ["90s", 90 * SECOND],
    ["1h", HOUR],
    ["1d", DAY],
    ["1w", WEEK],
    ["2 weeks", 2 * WEEK],
    ["1wk", WEEK],
    ["1.5h", 90 * MINUTE],
    ["0.5m", 30 * SECOND],
    ["1.25 hours", 75 * MINUTE],
    ["1h 30m", 90 * MINUTE],
    ["1 hour 30 minutes", 90 * MINUTE],
    ["1 hour and 30 minutes", 90 * MINUTE],
    ["1h, 30m", 90 * MINUTE],
    ["2 days 3 hours", 2 * DAY + 3 * HOUR],
    ["1 day 12 hours", 36 * HOUR],
    ["1d2h3m4s", DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND],
    ["1h30", 90 * MINUTE], // trailing number after hours = minutes
    ["5m30", 5 * MINUTE + 30 * SECOND], // after minutes = seconds
    ["an hour", HOUR],
    ["a minute", MINUTE],
    ["one hour", HOUR],
    ["two minutes", 2 * MINUTE],
    ["half an hour", 30 * MINUTE],
    ["an hour and a half", 90 * MINUTE],
    ["an hour and 15 minutes", 75 * MINUTE],
    ["3 hrs", 3 * HOUR],
    ["10 mins", 10 * MINUTE],
    ["5 secs", 5 * SECOND],
    ["1 sec", SECOND],
    ["10 MIN", 10 * MINUTE],
    ["100 minutes", 100 * MINUTE],
    ["1:30", 90 * SECOND], // m:ss
    ["1:00:00", HOUR], // h:mm:ss
    ["0:05", 5 * SECOND],
    ["52 weeks", 52 * WEEK],
    ["  3s  ", 3 * SECOND],
  ];
  it.each(ACCEPTED)("%j = %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it("has a table of at least 30 accepted forms", () => {
    expect(ACCEPTED.length).toBeGreaterThanOrEqual(30);
  });

  const REJECTED = [
    "",
    "   ",
    "abc",
    "10", // no unit: ambiguous
    "10x",
    "5 lightyears",
    "-5m",
    "0s",
    "0m0s",
    "m10",
    "h",
    "1h1h", // same unit twice: a typo
    "10 minutes ago",
    "1e3s",
    "1..5h",
    "1.5.2h",
    "1:60",
    "12:",
    "1h30x",
    "10m-",
    "1h,",
    "1h and",
    "and 1h",
    "1h,,30m",
    "5m 30", // a bare number after a space is a name, not seconds
    "1h30.5",
    "a",
    "an",
    "∞s",
    "NaN s",
    "10000000 days", // beyond any sensible timer
    "1 month", // months have no fixed length
  ];
  it.each(REJECTED)("rejects %j", (input) => {
    expect(parseDuration(input)).toBeNull();
  });
});

describe("splitting a duration from a timer name", () => {
  it.each([
    ["1h30m tea", 90 * MINUTE, "tea"],
    ["10m", 10 * MINUTE, ""],
    ["90 seconds pasta", 90 * SECOND, "pasta"],
    ["1 hour 30 minutes tea break", 90 * MINUTE, "tea break"],
    ["2 days laundry", 2 * DAY, "laundry"],
    ["5m 5 a side", 5 * MINUTE, "5 a side"],
    ["5m a side", 5 * MINUTE, "a side"],
    ["25m pomodoro #3", 25 * MINUTE, "pomodoro #3"],
  ])("%j", (input, ms, rest) => {
    expect(splitDuration(input)).toEqual({ ms, rest });
  });

  it("finds nothing when the message does not start with a duration", () => {
    expect(splitDuration("tea 10m")).toBeNull();
    expect(splitDuration("")).toBeNull();
  });
});

describe("formatting durations", () => {
  it.each([
    [0, "0s"],
    [400, "0s"],
    [1500, "2s"],
    [90 * SECOND, "1m 30s"],
    [90 * MINUTE, "1h 30m"],
    [DAY + 2 * HOUR + 3 * MINUTE, "1d 2h"],
    [3 * WEEK + DAY, "3w 1d"],
    [HOUR + 5 * SECOND, "1h 5s"],
  ])("%d ms → %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("shows more parts on request", () => {
    expect(formatDuration(DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND, 3)).toBe("1d 2h 3m");
  });
});
