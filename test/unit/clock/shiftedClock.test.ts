import { DateTime } from "luxon";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { shiftClock } = require("./shiftedClock.js") as { shiftClock(target: number): () => void };

describe("the shifted wall clock used by run-at-times.sh", () => {
  it("moves Date and luxon to the chosen instant and back", () => {
    const target = Date.parse("2026-03-29T01:30:00Z");
    const before = Date.now();
    const restore = shiftClock(target);
    try {
      expect(Math.abs(Date.now() - target)).toBeLessThan(5_000);
      expect(Math.abs(new Date().getTime() - target)).toBeLessThan(5_000);
      expect(new Date(0).toISOString()).toBe("1970-01-01T00:00:00.000Z");
      expect(DateTime.now().setZone("Europe/Berlin").offset).toBe(120); // just after the switch
    } finally {
      restore();
    }
    expect(Math.abs(Date.now() - before)).toBeLessThan(5_000); // the real clock again
  });

  it("is in force exactly when MAB_FAKE_NOW is set (run-at-times.sh)", () => {
    const fake = process.env.MAB_FAKE_NOW;
    if (fake) {
      // The suite started at the fake instant and has run for minutes at most since.
      expect(Date.now() - Date.parse(fake)).toBeGreaterThanOrEqual(0);
      expect(Date.now() - Date.parse(fake)).toBeLessThan(30 * 60_000);
      expect(Date.name).toBe("ShiftedDate");
    } else {
      expect(Date.name).toBe("Date");
    }
  });
});
