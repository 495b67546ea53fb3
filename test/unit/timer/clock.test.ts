import { parseUntil } from "../../../src/agents/timer/clock";

// 2025-03-01 12:00 UTC = 13:00 in Berlin, 07:00 in New York.
const NOW = new Date("2025-03-01T12:00:00Z");

describe("`until <time>` in the user's timezone", () => {
  it.each([
    ["15:00 meeting", "UTC", "2025-03-01T15:00:00.000Z", "meeting"],
    ["15:00 meeting", "Europe/Berlin", "2025-03-01T14:00:00.000Z", "meeting"],
    ["15:00", "America/New_York", "2025-03-01T20:00:00.000Z", ""],
    ["3pm call mum", "UTC", "2025-03-01T15:00:00.000Z", "call mum"],
    ["3:30 pm", "UTC", "2025-03-01T15:30:00.000Z", ""],
    ["15h30", "UTC", "2025-03-01T15:30:00.000Z", ""],
    ["noon lunch", "Europe/Berlin", "2025-03-02T11:00:00.000Z", "lunch"], // 12:00 Berlin passed
    ["midnight", "UTC", "2025-03-02T00:00:00.000Z", ""],
    ["11:00 standup", "UTC", "2025-03-02T11:00:00.000Z", "standup"], // passed today → tomorrow
    ["12:00", "UTC", "2025-03-02T12:00:00.000Z", ""], // exactly now → tomorrow
    ["tomorrow 9:00 gym", "UTC", "2025-03-02T09:00:00.000Z", "gym"],
    ["12am", "UTC", "2025-03-02T00:00:00.000Z", ""],
    ["12pm", "UTC", "2025-03-02T12:00:00.000Z", ""],
    ["3:30 amazing meeting", "UTC", "2025-03-02T03:30:00.000Z", "amazing meeting"], // not "am"
  ])("%j in %s", (text, zone, iso, rest) => {
    const r = parseUntil(text, NOW, zone);
    expect(r?.due.toUTC().toISO()).toBe(iso);
    expect(r?.rest).toBe(rest);
  });

  it.each(["3 meeting", "25:00", "13pm", "9:75", "soon", "", "0am"])("rejects %j", (text) => {
    expect(parseUntil(text, NOW, "UTC")).toBeNull();
  });

  it("handles the day clocks go forward (Europe/Berlin, 2025-03-30)", () => {
    const before = new Date("2025-03-30T00:30:00Z"); // 01:30 CET
    const r = parseUntil("3:00", before, "Europe/Berlin");
    expect(r?.due.toUTC().toISO()).toBe("2025-03-30T01:00:00.000Z"); // 03:00 CEST
  });
});
