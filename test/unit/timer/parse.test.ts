import { parseTimerCommand } from "../../../src/agents/timer/parse";
import { DAY, HOUR, MINUTE, SECOND } from "../../../src/agents/timer/duration";

describe("timer command parsing", () => {
  it.each([
    ["10m", { kind: "start", ms: 10 * MINUTE, name: null }],
    ["1h30m tea", { kind: "start", ms: 90 * MINUTE, name: "tea" }],
    ["90 seconds", { kind: "start", ms: 90 * SECOND, name: null }],
    ["2 days", { kind: "start", ms: 2 * DAY, name: null }],
    ["until 15:00 meeting", { kind: "until", text: "15:00 meeting" }],
    ["list", { kind: "list" }],
    ["cancel tea", { kind: "cancel", ref: "tea" }],
    ["cancel ab3de", { kind: "cancel", ref: "ab3de" }],
    ["stop tea break", { kind: "cancel", ref: "tea break" }],
    ["pause tea", { kind: "pause", ref: "tea" }],
    ["resume tea", { kind: "resume", ref: "tea" }],
    ["add tea 5m", { kind: "add", ref: "tea", ms: 5 * MINUTE }],
    ["add tea break 1 hour", { kind: "add", ref: "tea break", ms: HOUR }],
    ["add 5m to tea", { kind: "add", ref: "tea", ms: 5 * MINUTE }],
    ["tz Europe/Berlin", { kind: "tz", zone: "Europe/Berlin" }],
    ["tz", { kind: "tz" }],
  ])("%j", (args, expected) => {
    expect(parseTimerCommand(args)).toEqual(expected);
  });

  it.each([
    ["90", /90 what\? Add a unit/],
    ["tea", /could not read a duration/],
    ["cancel", /Usage: `!timer cancel/],
    ["add tea", /Usage: `!timer add/],
    ["until", /Usage: `!timer until/],
  ])("explains %j", (args, message) => {
    const cmd = parseTimerCommand(args);
    expect(cmd.kind).toBe("usage");
    expect(cmd.kind === "usage" ? cmd.message : "").toMatch(message);
  });
});
