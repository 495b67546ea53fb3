import { parseTimerCommand } from "../../src/agents/timer/parse";
import { parseFaqCommand } from "../../src/agents/faq/parse";
import { nearMisses, rankEntries } from "../../src/agents/faq/fuzzy";
import { parseReminder } from "../../src/agents/reminders/parse";
import { parseCommand } from "../../src/agents/reminders/command";
import { UserInputError } from "../../src/errors";

/**
 * The audit's findings (issue 12, section 1), each as it was reported. The bounds are generous
 * (a noisy 2-core machine): the findings took 5 to 68 seconds.
 */
const BOUND_MS = 500;

function timed<T>(fn: () => T): { ms: number; value?: T; error?: unknown } {
  const started = performance.now();
  try {
    const value = fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

const entries = Array.from({ length: 50 }, (_, i) => ({
  key: `key${i}`,
  displayKey: `Key ${i} printer wifi`,
  answer: `Answer number ${i} about the printer paper and the wifi password in room ${i}.`,
}));

describe("hostile input is normal input", () => {
  it("`!timer add` with 16,000 words is read in linear time", () => {
    const words = Array.from({ length: 16_000 }, (_, i) => `w${i}`).join(" ");
    const r = timed(() => parseTimerCommand(`add ${words}`));
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.error).toBeInstanceOf(UserInputError);
  });

  it("a 64 KB timer command is read in linear time", () => {
    const r = timed(() => parseTimerCommand("5 min " + "tea ".repeat(16_384)));
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect((r.error as Error).message).toMatch(
      /^That message is too long for me \(65,\d{3} characters; I read at most 4,000\)\.$/,
    );
  });

  it("`!faq revert a` + 60,000 spaces + `x` does not backtrack", () => {
    const r = timed(() => parseFaqCommand(`revert a${" ".repeat(60_000)}x`));
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.value).toMatchObject({ kind: "usage" });
    expect(parseFaqCommand("revert wifi 2")).toMatchObject({ kind: "revert", key: "wifi", n: 2 });
    expect(parseFaqCommand("revert guest wifi to v3")).toMatchObject({
      kind: "revert",
      key: "guest wifi",
      n: 3,
    });
    expect(parseFaqCommand('revert "guest wifi" #4')).toMatchObject({
      kind: "revert",
      key: "guest wifi",
      n: 4,
    });
  });

  it("`!faq search` with 60,000 letters is refused quickly with a clear message", () => {
    const r = timed(() => rankEntries(entries, "a".repeat(60_000), 5));
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.error).toBeInstanceOf(UserInputError);
    expect((r.error as Error).message).toMatch(/^That search is too long/);
  });

  it("`!faq search` with 10,000 words against 50 entries is refused quickly", () => {
    const r = timed(() =>
      rankEntries(entries, Array.from({ length: 10_000 }, (_, i) => `word${i}`).join(" "), 5),
    );
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.error).toBeInstanceOf(UserInputError);
  });

  it("near misses of a huge key do not copy it per comparison", () => {
    const r = timed(() =>
      nearMisses(
        "x".repeat(60_000),
        entries.map((e) => e.key),
      ),
    );
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.value).toEqual([]);
  });

  it.each(["in 99999999999 years x", "every 99999999999999999999 seconds x", "in 1e400 minutes x"])(
    "%s is a clear refusal, not a RangeError",
    (input) => {
      const r = timed(() =>
        parseReminder(input, { now: new Date("2026-03-02T12:00:00Z"), zone: "UTC", minIntervalMs: 60_000 }),
      );
      expect(r.error).toBeInstanceOf(UserInputError);
    },
  );

  it("the reminders command word split does not grow with the message", () => {
    const r = timed(() => parseCommand("cancel " + "k3x9p ".repeat(100_000)));
    expect(r.ms).toBeLessThan(BOUND_MS);
  });
});
