import { ID_ALPHABET, ID_LENGTH, newReminderId, normalizeId } from "../../../src/agents/reminders/ids";
import { parseCommand } from "../../../src/agents/reminders/command";
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
    ["done", { kind: "done", ids: [] }],
    ["done k3x9p", { kind: "done", ids: ["k3x9p"] }],
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
