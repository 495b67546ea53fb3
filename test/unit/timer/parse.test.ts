import { parseTimerCommand } from "../../../src/agents/timer/parse";
import { ZERO } from "../../../src/agents/kit/time/duration";

const d = (parts: Partial<typeof ZERO>) => ({ ...ZERO, ...parts });

describe("timer command parsing", () => {
  it.each([
    ["10m", { kind: "start", duration: d({ minutes: 10 }), name: null }],
    ["1h30m tea", { kind: "start", duration: d({ hours: 1, minutes: 30 }), name: "tea" }],
    ["90 seconds", { kind: "start", duration: d({ seconds: 90 }), name: null }],
    ["2 days", { kind: "start", duration: d({ days: 2 }), name: null }],
    ["in 5 minutes", { kind: "start", duration: d({ minutes: 5 }), name: null }],
    ["5 min tea", { kind: "start", duration: d({ minutes: 5 }), name: "tea" }],
    ["for 10 minutes", { kind: "start", duration: d({ minutes: 10 }), name: null }],
    ["until 15:00 meeting", { kind: "until", text: "15:00 meeting" }],
    ["list", { kind: "list" }],
    ["cancel tea", { kind: "cancel", ref: "tea" }],
    ["cancel ab3de", { kind: "cancel", ref: "ab3de" }],
    ["stop tea break", { kind: "cancel", ref: "tea break" }],
    ["pause tea", { kind: "pause", ref: "tea" }],
    ["resume tea", { kind: "resume", ref: "tea" }],
    ["add tea 5m", { kind: "add", ref: "tea", duration: d({ minutes: 5 }) }],
    ["add tea break 1 hour", { kind: "add", ref: "tea break", duration: d({ hours: 1 }) }],
    ["add 5m to tea", { kind: "add", ref: "tea", duration: d({ minutes: 5 }) }],
    // A timer id that reads like a length (ids are random: this one made a store test flaky).
    ["add 25m3s 1 hour", { kind: "add", ref: "25m3s", duration: d({ hours: 1 }) }],
    ["add 2h3md 5m", { kind: "add", ref: "2h3md", duration: d({ minutes: 5 }) }],
  ])("%j", (args, expected) => {
    expect(parseTimerCommand(args)).toEqual(expected);
  });

  it.each([
    ["90", /90 what\? Add a unit/],
    ["tea", /could not read a length of time/],
    ["cancel", /Usage: `!timer cancel/],
    ["add tea", /Usage: `!timer add/],
    ["until", /Usage: `!timer until/],
  ])("explains %j", (args, message) => {
    const cmd = parseTimerCommand(args);
    expect(cmd.kind).toBe("usage");
    expect(cmd.kind === "usage" ? cmd.message : "").toMatch(message);
  });
});
