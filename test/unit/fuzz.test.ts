import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { parseReminder } from "../../src/agents/reminders/parse";
import { parseCommand } from "../../src/agents/reminders/command";
import { normalizeId } from "../../src/agents/reminders/ids";
import { parseTimerCommand } from "../../src/agents/timer/parse";
import { parseFaqCommand } from "../../src/agents/faq/parse";
import { keyProblem, normalizeKey, splitKey } from "../../src/agents/faq/keys";
import { nearMisses, rankEntries } from "../../src/agents/faq/fuzzy";
import { readTimeAndText, readWholeDuration } from "../../src/agents/kit";
import { messageText } from "../../src/appservice/commandRouter";
import { UserInputError } from "../../src/errors";

/**
 * Every parser and matcher an agent runs on a room member's text, fed 10,000+ inputs each from
 * a fixed seed: grammar words in random order, pathological repetitions, Unicode oddities
 * (lone surrogates, NUL, combining marks, right-to-left, emoji) and 1 MB strings. Each input
 * must be either understood or refused with a typed user error, within a generous time bound.
 * MAB_FUZZ_REPORT=1 writes the figures (inputs, worst time per parser) to the temp directory.
 */
const INPUTS_PER_PARSER = 10_000;
const BOUND_MS = 1_000;
const ONE_MB = 1 << 20;

/** mulberry32: small, fast, and the same sequence everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "in at on every each daily weekly monthly yearly hourly other next this tomorrow today tonight " +
  "morning afternoon evening night noon midnight from now later ago and a an half quarter of the " +
  "couple few for until to about remind me us please room cancel snooze done list all tz help add " +
  "pause resume stop set get delete alias search revert history shortcut export import --global " +
  "--until-ack cron * */5 1-5 0 1 2 5 9 12 13 24 25 30 59 60 99 1000 99999999999 1e400 -5 0.5 1.5 " +
  "h m s d w mo y min mins hour hours minutes seconds days weeks months years 1h30 1h30m 10m 90s " +
  "1d2h3m4s 1:30 9:30 17:30 25:00 05:00 9am 5pm 12am 13pm p.m. a.m. am pm o'clock 1st 2nd 3rd 15th " +
  "31st 32nd monday mon tue wed thu fri sat sun weekday weekend mondays jan feb march may dec " +
  "2026-12-24 2026-13-45 2026-12-24t18:00 12/24 EST UTC CET , ; & + : - — \" “ ” ' ? ! . ( ) # v " +
  "stretch tea call mom wifi printer `k3x9p` k3x9p ab3de"
).split(" ");

const ODD = [
  "\u0000",
  "\uD800",
  "\uDFFF",
  "\u0301",
  "\u200B",
  "\u202E",
  "\uFEFF",
  "😀",
  "👍🏽",
  "✅",
  "ß",
  "İ",
  "ﬁ",
  "\n",
  "\t",
  "\r\n",
  "　",
  "١٢",
  "𝟗",
];

const PATTERNS = [
  "1h",
  "1 hour ",
  "and a half ",
  "every ",
  "in ",
  "at ",
  " ",
  "a",
  "9:",
  "-",
  "mon, ",
  "and ",
  ", ",
  "tomorrow ",
  "1",
  "a ",
  '"',
  "?",
  "!faq ",
  "x ",
  "😀",
  "\u0301",
  "revert a ",
  "the ",
  "1st ",
];

function randomText(rand: () => number): string {
  const kind = rand();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  if (kind < 0.6) {
    const n = 1 + Math.floor(rand() * 14);
    return Array.from({ length: n }, () => (rand() < 0.1 ? pick(ODD) : pick(WORDS))).join(
      rand() < 0.9 ? " " : "",
    );
  }
  if (kind < 0.85) {
    // Pathological repetition, up to ~100 KB.
    const times = 1 + Math.floor(rand() ** 3 * 20_000);
    const tail = rand() < 0.5 ? pick(WORDS) : "";
    return pick(WORDS) + " " + pick(PATTERNS).repeat(times) + tail;
  }
  let s = "";
  const n = Math.floor(rand() * 40);
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rand() * 0x10000));
  return s;
}

/** A few 1 MB strings every parser also gets. */
const HUGE = [
  "a".repeat(ONE_MB),
  " ".repeat(ONE_MB - 1) + "x",
  "in " + "1h".repeat(ONE_MB / 2),
  "every " + "mon, ".repeat(ONE_MB / 5),
  "revert a" + " ".repeat(ONE_MB) + "x",
  "search " + "word ".repeat(ONE_MB / 5),
  "😀".repeat(ONE_MB / 2),
  "\uD800".repeat(ONE_MB),
  "add " + "w ".repeat(ONE_MB / 2),
  "> quote\n".repeat(ONE_MB / 8) + "\n!remind in 5 minutes x",
];

const NOW = new Date("2026-03-29T00:30:00Z");
// 20 entries: the search's cost is per entry, and the suite should stay quick.
const entries = Array.from({ length: 20 }, (_, i) => ({
  key: `key${i}`,
  displayKey: `Key ${i} printer wifi`,
  answer: `Answer ${i}: the printer paper and the wifi password are in room ${i}.`,
}));

const PARSERS: Record<string, (text: string) => unknown> = {
  "reminders: time grammar (parseReminder)": (t) =>
    parseReminder(t, { now: NOW, zone: "Europe/Berlin", minIntervalMs: 60_000 }),
  "reminders: command words": (t) => parseCommand(t),
  "reminders: ids": (t) => normalizeId(t),
  "kit: whole duration (snooze)": (t) => readWholeDuration(t),
  "timer: command (durations, names)": (t) => parseTimerCommand(t),
  "timer: until <time> (one-off grammar, New York)": (t) =>
    readTimeAndText(t, { now: NOW, zone: "America/New_York" }, { recurring: false }),
  "faq: command": (t) => parseFaqCommand(t),
  "faq: keys": (t) => [normalizeKey(t), keyProblem(t, 48), splitKey(t)],
  "faq: near misses": (t) =>
    nearMisses(
      normalizeKey(t),
      entries.map((e) => e.key),
    ),
  "faq: search": (t) => rankEntries(entries, t, 5),
  "router: message text": (t) =>
    messageText({
      event_id: "$e",
      room_id: "!r",
      type: "m.room.message",
      sender: "@u:x",
      content: { msgtype: "m.text", body: t },
    }),
};

const figures: Record<string, { inputs: number; worstMs: number; worstInput: string; refused: number }> = {};

afterAll(() => {
  if (process.env.MAB_FUZZ_REPORT) {
    const file = join(tmpdir(), "mab-fuzz.json");
    writeFileSync(file, JSON.stringify(figures, null, 2));
    process.stdout.write(`fuzz figures: ${file}\n`);
  }
});

describe("fuzz: every agent parser understands or refuses, quickly", () => {
  it.each(Object.keys(PARSERS))("%s", (name) => {
    const parse = PARSERS[name];
    const rand = prng(0x5eed ^ name.length);
    const stats = { inputs: 0, worstMs: 0, worstInput: "", refused: 0 };
    // Warm-up (module set-up, JIT) is not what the bound is about.
    for (const warm of ["in 10 minutes stretch", "every day at 9 x", "set wifi pw", "tea 5 min"]) {
      try {
        parse(warm);
      } catch {
        // refusals are fine here
      }
    }
    const inputs: string[] = [...HUGE];
    while (inputs.length < INPUTS_PER_PARSER) inputs.push(randomText(rand));
    for (const input of inputs) {
      const started = performance.now();
      try {
        parse(input);
      } catch (err) {
        if (!(err instanceof UserInputError)) {
          throw new Error(
            `${name} threw ${(err as Error).name} on ${JSON.stringify(input.slice(0, 120))}: ${(err as Error).message}`,
          );
        }
        stats.refused++;
      }
      const ms = performance.now() - started;
      stats.inputs++;
      if (ms > stats.worstMs) Object.assign(stats, { worstMs: ms, worstInput: input.slice(0, 60) });
      if (ms > BOUND_MS)
        throw new Error(`${name} took ${Math.round(ms)} ms on ${JSON.stringify(input.slice(0, 120))}`);
    }
    figures[name] = { ...stats, worstMs: Math.round(stats.worstMs * 10) / 10 };
    expect(stats.inputs).toBeGreaterThanOrEqual(INPUTS_PER_PARSER);
  });
});
