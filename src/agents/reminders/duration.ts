import type { DurationLikeObject } from "luxon";

/**
 * Durations as people type them: "10 minutes", "1h30m", "an hour", "half an hour", "2 days and
 * 3 hours", "90s". Calendar units (days, weeks, months, years) stay calendar units, so adding
 * "1 day" keeps the wall-clock time across a DST change; hours and smaller are physical time.
 */
export type DurationParts = Pick<
  DurationLikeObject,
  "years" | "months" | "weeks" | "days" | "hours" | "minutes" | "seconds"
>;
type Unit = keyof DurationParts;

const UNIT_WORDS: [RegExp, Unit][] = [
  [/^(?:seconds?|secs?|s)/, "seconds"],
  [/^(?:minutes?|mins?|m)/, "minutes"],
  [/^(?:hours?|hrs?|h)/, "hours"],
  [/^(?:days?|d)/, "days"],
  [/^(?:weeks?|wks?|w)/, "weeks"],
  [/^(?:months?|mo)/, "months"],
  [/^(?:years?|yrs?|y)/, "years"],
];

const WORD_NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  "half a": 0.5,
  "half an": 0.5,
};

/** Approximate length of one unit, for limits and ordering (never for computing due times). */
export const UNIT_MS: Record<Unit, number> = {
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
  months: 30 * 86_400_000,
  years: 365 * 86_400_000,
};

const NUMBER =
  /^(\d+(?:\.\d+)?|half an?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)/;

function matchUnit(text: string): { unit: Unit; length: number } | undefined {
  for (const [pattern, unit] of UNIT_WORDS) {
    // Longest spelling first inside each pattern; the unit must end the word ("1h30m" is fine).
    const m = pattern.exec(text);
    if (m && !/^[a-z]/i.test(text.slice(m[0].length))) return { unit, length: m[0].length };
  }
  return undefined;
}

/**
 * Reads a duration at the start of `text`. Returns the parts and how many characters were
 * used, or undefined when the text does not start with a duration.
 */
export function parseDurationPrefix(text: string): { parts: DurationParts; length: number } | undefined {
  const lower = text.toLowerCase();
  const parts: DurationParts = {};
  let pos = 0;
  let found = false;
  for (;;) {
    const sep = found ? /^(?:\s*,\s*|\s+and\s+|\s*)/.exec(lower.slice(pos)) : null;
    const start = pos + (sep ? sep[0].length : 0);
    const num = NUMBER.exec(lower.slice(start));
    if (!num) break;
    const value = /^\d/.test(num[1]) ? Number(num[1]) : WORD_NUMBERS[num[1]];
    const afterNum = start + num[0].length;
    const gap = /^\s*/.exec(lower.slice(afterNum))![0].length;
    // Word numbers need a space before the unit ("an hour"); digits may touch it ("10m").
    if (!/^\d/.test(num[1]) && gap === 0) break;
    const unit = matchUnit(lower.slice(afterNum + gap));
    if (!unit) break;
    if ((unit.unit === "months" || unit.unit === "years") && !Number.isInteger(value)) break;
    addPart(parts, unit.unit, value);
    pos = afterNum + gap + unit.length;
    found = true;
  }
  return found ? { parts, length: pos } : undefined;
}

/** Fractions move into the next smaller unit so that every part is a whole number. */
function addPart(parts: DurationParts, unit: Unit, value: number): void {
  const smaller: Partial<Record<Unit, [Unit, number]>> = {
    weeks: ["days", 7],
    days: ["hours", 24],
    hours: ["minutes", 60],
    minutes: ["seconds", 60],
  };
  const whole = Math.floor(value);
  if (whole > 0 || value === 0) parts[unit] = (parts[unit] ?? 0) + whole;
  const rest = value - whole;
  if (rest > 0) {
    const next = smaller[unit];
    if (next) addPart(parts, next[0], rest * next[1]);
    else parts[unit] = (parts[unit] ?? 0) + Math.round(rest);
  }
}

/** The whole text as a duration ("15m", "1 hour"), or undefined. */
export function parseDuration(text: string): DurationParts | undefined {
  const trimmed = text.trim();
  const parsed = parseDurationPrefix(trimmed);
  return parsed && parsed.length === trimmed.length ? parsed.parts : undefined;
}

export function approximateMs(parts: DurationParts): number {
  return (Object.entries(parts) as [Unit, number][]).reduce((sum, [unit, n]) => sum + UNIT_MS[unit] * n, 0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "2 hours 5 minutes", "45 seconds", "3 days 4 hours", "5 months": at most two units. */
export function humanizeMs(ms: number): string {
  const total = Math.round(Math.abs(ms) / 1000);
  if (total >= 2 * 365 * 86_400) return plural(Math.round(total / (365 * 86_400)), "year");
  if (total >= 60 * 86_400) return plural(Math.round(total / (30 * 86_400)), "month");
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  const out: string[] = [];
  let rest = total;
  for (const [size, word] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || out.length > 0) {
      if (n > 0) out.push(plural(n, word));
      rest -= n * size;
      if (out.length === 2 || (out.length === 1 && n === 0)) break;
    }
  }
  return out.length ? out.join(" ") : "0 seconds";
}

/** "in 10 minutes" or "10 minutes ago". */
export function relative(target: Date, now: Date): string {
  const ms = target.getTime() - now.getTime();
  if (Math.abs(ms) < 500) return "now";
  return ms > 0 ? `in ${humanizeMs(ms)}` : `${humanizeMs(ms)} ago`;
}
