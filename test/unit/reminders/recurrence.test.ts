import {
  cronProblem,
  describeRecurrence,
  nextOccurrence,
  occurrencesBetween,
  shortestGapMs,
  type Recurrence,
} from "../../../src/agents/kit";
import { rezone } from "../../../src/agents/kit";

const runs = (rec: Recurrence, from: string, n: number): string[] => {
  const out: string[] = [];
  let at: Date | null = new Date(from);
  for (let i = 0; i < n && at; i++) {
    at = nextOccurrence(rec, at);
    if (at) out.push(at.toISOString());
  }
  return out;
};

const cron = (expr: string, zone: string): Recurrence => ({ type: "cron", expr, zone });

describe("cron next runs across DST", () => {
  it("keeps 09:00 wall-clock in Berlin across the spring switch (08:00Z → 07:00Z)", () => {
    expect(runs(cron("0 9 * * *", "Europe/Berlin"), "2026-03-27T00:00:00Z", 4)).toEqual([
      "2026-03-27T08:00:00.000Z",
      "2026-03-28T08:00:00.000Z",
      "2026-03-29T07:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
    ]);
  });

  it("fires a time inside the spring gap once, right after the switch (03:00 CEST)", () => {
    expect(runs(cron("30 2 * * *", "Europe/Berlin"), "2026-03-28T12:00:00Z", 2)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  it("fires a time in the repeated autumn hour once, at its first occurrence", () => {
    expect(runs(cron("30 2 * * *", "Europe/Berlin"), "2026-10-24T12:00:00Z", 2)).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  it("weekdays at 09:00 in New York across the US switch (14:00Z → 13:00Z)", () => {
    expect(runs(cron("0 9 * * 1-5", "America/New_York"), "2026-03-06T15:00:00Z", 3)).toEqual([
      "2026-03-09T13:00:00.000Z",
      "2026-03-10T13:00:00.000Z",
      "2026-03-11T13:00:00.000Z",
    ]);
    expect(runs(cron("0 9 * * 1-5", "America/New_York"), "2026-03-05T15:00:00Z", 1)).toEqual([
      "2026-03-06T14:00:00.000Z",
    ]);
  });
});

describe("intervals", () => {
  const every = (
    n: number,
    unit: Extract<Recurrence, { type: "interval" }>["unit"],
    anchor: string,
    zone = "UTC",
  ) => ({ type: "interval", every: n, unit, anchor, zone }) as Recurrence;

  it("hours are physical time, also across DST", () => {
    expect(
      runs(every(2, "hours", "2026-03-28T23:00:00Z", "Europe/Berlin"), "2026-03-28T23:00:00Z", 3),
    ).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-29T03:00:00.000Z", "2026-03-29T05:00:00.000Z"]);
  });

  it("days keep the wall-clock time across DST", () => {
    // 09:00 CET on 27 Mar = 08:00Z; 09:00 CEST from 29 Mar = 07:00Z.
    expect(
      runs(every(1, "days", "2026-03-27T08:00:00Z", "Europe/Berlin"), "2026-03-27T08:00:00Z", 3),
    ).toEqual(["2026-03-28T08:00:00.000Z", "2026-03-29T07:00:00.000Z", "2026-03-30T07:00:00.000Z"]);
  });

  it("months step from the anchor, so 31 Jan does not drift to the 28th", () => {
    expect(runs(every(1, "months", "2026-01-31T09:00:00Z"), "2026-01-31T09:00:00Z", 3)).toEqual([
      "2026-02-28T09:00:00.000Z",
      "2026-03-31T09:00:00.000Z",
      "2026-04-30T09:00:00.000Z",
    ]);
  });

  it("the anchor itself is the first occurrence", () => {
    expect(
      nextOccurrence(every(3, "seconds", "2026-01-01T00:00:03Z"), new Date("2026-01-01T00:00:00Z")),
    ).toEqual(new Date("2026-01-01T00:00:03Z"));
  });

  it("after downtime, skips to the first occurrence after now and counts the missed ones", () => {
    const rec = every(2, "hours", "2026-01-01T00:00:00Z");
    const due = new Date("2026-01-01T00:00:00Z");
    const now = new Date("2026-01-01T05:00:00Z");
    expect(nextOccurrence(rec, now)).toEqual(new Date("2026-01-01T06:00:00Z"));
    expect(occurrencesBetween(rec, due, now)).toBe(2); // 02:00 and 04:00
  });

  it("finds the next month years after the anchor without walking every step", () => {
    const rec = every(1, "months", "2016-01-31T09:00:00Z");
    expect(nextOccurrence(rec, new Date("2026-02-10T00:00:00Z"))).toEqual(new Date("2026-02-28T09:00:00Z"));
  });
});

describe("gaps, for min_interval_seconds", () => {
  it("measures cron and interval gaps", () => {
    const from = new Date("2026-03-28T22:30:00Z");
    expect(shortestGapMs(cron("* * * * *", "UTC"), from)).toBe(60_000);
    expect(shortestGapMs(cron("*/5 * * * *", "UTC"), from)).toBe(300_000);
    expect(shortestGapMs(cron("0 9 * * 1-5", "UTC"), from)).toBe(86_400_000);
    expect(
      shortestGapMs(
        { type: "interval", every: 3, unit: "seconds", anchor: from.toISOString(), zone: "UTC" },
        from,
      ),
    ).toBe(3_000);
  });
});

describe("cron validation", () => {
  it.each([
    ["0 9 * * 1-5", undefined],
    ["*/15 8-18 * * mon-fri", undefined],
    ["0 9 * *", /exactly 5 fields .* has 4/],
    ["0 0 9 * * *", /exactly 5 fields .* has 6/],
    ["61 9 * * *", /not a valid cron schedule/],
    ["0 9 31 2 *", /never fires/],
  ])("%s", (expr, problem) => {
    if (problem === undefined) expect(cronProblem(expr)).toBeUndefined();
    else expect(cronProblem(expr)).toMatch(problem);
  });
});

describe("words", () => {
  it.each<[Recurrence, string]>([
    [cron("0 9 * * *", "UTC"), "every day at 09:00 (cron `0 9 * * *`)"],
    [cron("15 * * * *", "UTC"), "every hour at minute 15 (cron `15 * * * *`)"],
    [cron("*/10 * * * *", "UTC"), "every 10 minutes (cron `*/10 * * * *`)"],
    [cron("0 18 * * 5", "UTC"), "every Friday at 18:00 (cron `0 18 * * 5`)"],
    [{ type: "cron", expr: "0 9 * * *", zone: "UTC", words: "every day at 09:00" }, "every day at 09:00"],
    [
      { type: "interval", every: 1, unit: "hours", anchor: "2026-01-01T00:00:00Z", zone: "UTC" },
      "every hour",
    ],
    [
      {
        type: "interval",
        every: 3,
        unit: "weeks",
        anchor: "2026-01-01T00:00:00Z",
        zone: "UTC",
        atTime: "10:00",
      },
      "every 3 weeks at 10:00",
    ],
  ])("%j → %s", (rec, words) => expect(describeRecurrence(rec)).toBe(words));
});

describe("changing timezone (tz)", () => {
  const now = new Date("2026-03-28T22:30:00Z");

  it("moves time-of-day schedules to the new zone and leaves pure intervals alone", () => {
    expect(rezone(cron("0 9 * * *", "UTC"), "Europe/Berlin", now)).toMatchObject({ zone: "Europe/Berlin" });
    const daily = rezone(
      {
        type: "interval",
        every: 2,
        unit: "days",
        anchor: "2026-03-29T18:00:00Z",
        zone: "UTC",
        atTime: "18:00",
      },
      "Europe/Berlin",
      now,
    );
    expect(daily).toMatchObject({ zone: "Europe/Berlin", anchor: "2026-03-29T16:00:00.000Z" }); // 18:00 CEST
    expect(
      rezone(
        { type: "interval", every: 2, unit: "hours", anchor: now.toISOString(), zone: "UTC" },
        "Asia/Tokyo",
        now,
      ),
    ).toBeUndefined();
    expect(rezone(cron("0 9 * * *", "UTC"), "UTC", now)).toBeUndefined();
  });
});
