import { UserInputError } from "../../../errors";
import type { Token } from "./tokens";
import { UNITS, numberWord, unitWord, type Unit } from "./words";

/**
 * A length of time as people say it, in whole units. Calendar units (days and longer) stay
 * calendar units, so adding "1 day" keeps the wall-clock time across a DST change; hours and
 * shorter are exact time.
 */
export type Duration = Record<Unit, number>;

export const ZERO: Duration = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };

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

/** Fractions move into the next smaller unit ("1.5h" = 1 h 30 min). */
const SMALLER: Partial<Record<Unit, [Unit, number]>> = {
  weeks: ["days", 7],
  days: ["hours", 24],
  hours: ["minutes", 60],
  minutes: ["seconds", 60],
};

export const DURATION_EXAMPLES = "`10 minutes`, `1h30m`, `an hour and a half` or `2 days`";

function addAmount(d: Duration, unit: Unit, value: number, said: string): void {
  const whole = Math.floor(value + 1e-9);
  d[unit] += whole;
  const rest = value - whole;
  if (rest > 1e-9) {
    const next = SMALLER[unit];
    if (!next) {
      throw new UserInputError(
        `I count ${unit} in whole numbers; “${said}” has a fraction. Say it in a smaller unit (e.g. \`6 weeks\`).`,
      );
    }
    addAmount(d, next[0], rest * next[1], said);
  }
}

export interface DurationRead {
  duration: Duration;
  /** Index of the first token after the duration. */
  end: number;
  /** Units as they were said, largest first (for the adjacency check). */
  units: Unit[];
}

export interface DurationOptions {
  /** Accept "1:30" (h:mm) and "1:00:30" (h:mm:ss) as durations (after "in", and for timers). */
  clock?: boolean;
}

/** A term: how much of which unit, and the next token index. */
interface Term {
  amount: number;
  unit: Unit;
  end: number;
  /** "1h30": a bare trailing number, meaning the next smaller unit. */
  extra?: { amount: number; unit: Unit };
  parts?: [number, Unit][];
}

/** "10m", "1h30m", "1d2h", "1.5h", "1h30" (30 minutes), "5m30" (30 seconds). */
function compactTerm(w: string): [number, Unit][] | undefined {
  if (!/^(?:\d+(?:\.\d+)?[a-z]+)+\d*$/.test(w)) return undefined;
  const out: [number, Unit][] = [];
  const re = /(\d+(?:\.\d+)?)([a-z]+)|(\d+)$/y;
  let pos = 0;
  while (pos < w.length) {
    re.lastIndex = pos;
    const m = re.exec(w);
    if (!m) return undefined;
    pos = re.lastIndex;
    if (m[3] !== undefined) {
      const last = out[out.length - 1]?.[1];
      const next = last === "hours" ? "minutes" : last === "minutes" ? "seconds" : undefined;
      if (!next) return undefined;
      out.push([numberWord(m[3])!, next]);
      continue;
    }
    const unit = unitWord(m[2]);
    if (!unit) return undefined;
    out.push([numberWord(m[1])!, unit]);
  }
  return out;
}

const VAGUE = new Set(["few", "several", "some", "many"]);

function term(tokens: readonly Token[], i: number): Term | undefined {
  const t = tokens[i];
  if (!t || t.sep) return undefined;
  const compact = compactTerm(t.w);
  if (compact) return { amount: 0, unit: compact[0][1], end: i + 1, parts: compact };
  const w1 = tokens[i + 1]?.w;
  const w2 = tokens[i + 2]?.w;
  const w3 = tokens[i + 3]?.w;
  const w4 = tokens[i + 4]?.w;
  // "half an hour", "half a day"
  if (t.w === "half" && (w1 === "a" || w1 === "an") && w2 && unitWord(w2)) {
    return { amount: 0.5, unit: unitWord(w2)!, end: i + 3 };
  }
  // "a half hour", "a quarter hour"
  if ((t.w === "a" || t.w === "an") && (w1 === "half" || w1 === "quarter") && w2 && unitWord(w2)) {
    return { amount: w1 === "half" ? 0.5 : 0.25, unit: unitWord(w2)!, end: i + 3 };
  }
  // "a quarter of an hour", "three quarters of an hour"
  if (
    (t.w === "a" || t.w === "one" || t.w === "three") &&
    (w1 === "quarter" || w1 === "quarters") &&
    w2 === "of" &&
    (w3 === "an" || w3 === "a") &&
    w4 &&
    unitWord(w4)
  ) {
    return { amount: t.w === "three" ? 0.75 : 0.25, unit: unitWord(w4)!, end: i + 5 };
  }
  // "a couple of hours"
  if (t.w === "a" && w1 === "couple" && w2 === "of" && w3 && unitWord(w3)) {
    return { amount: 2, unit: unitWord(w3)!, end: i + 4 };
  }
  // "a few minutes": refuse rather than guess how many.
  const vague = t.w === "a" ? w1 : t.w;
  const vagueUnit = t.w === "a" ? w2 : w1;
  if (vague && VAGUE.has(vague) && vagueUnit && unitWord(vagueUnit)) {
    const unit = unitWord(vagueUnit)!;
    throw new UserInputError(`How many ${unit} is “${vague}”? Give me a number, e.g. \`in 5 ${unit}\`.`);
  }
  let amount = t.w === "a" || t.w === "an" ? 1 : numberWord(t.w);
  if (amount === undefined) return undefined;
  let next = i + 1;
  // "1 and a half hours", "two and a half days"
  if (w1 === "and" && w2 === "a" && w3 === "half" && w4 && unitWord(w4)) {
    amount += 0.5;
    next = i + 4;
  }
  const unit = tokens[next] && !tokens[next].sep ? unitWord(tokens[next].w) : undefined;
  if (!unit) return undefined;
  if ((t.w === "a" || t.w === "an") && !/^[a-z]/.test(tokens[next].w)) return undefined;
  return { amount, unit, end: next + 1 };
}

/**
 * Reads a duration starting at token `i`: terms in any mix ("1 week and 2 days", "2 hours 15
 * minutes", "1h30", "an hour and a half", "half an hour", "90 seconds"), each unit at most once
 * and largest first. Returns undefined when no duration starts here; throws UserInputError for
 * one that starts but cannot be read exactly.
 */
export function readDuration(
  tokens: readonly Token[],
  i: number,
  opts: DurationOptions = {},
): DurationRead | undefined {
  const first = tokens[i];
  if (!first) return undefined;
  if (opts.clock) {
    const clock = /^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$/.exec(first.w);
    if (clock) {
      const d = {
        ...ZERO,
        hours: Number(clock[1]),
        minutes: Number(clock[2]),
        seconds: Number(clock[3] ?? 0),
      };
      return { duration: d, end: i + 1, units: ["hours", "minutes"] };
    }
  }
  if (/^-\d/.test(first.w) && (compactTerm(first.w.slice(1)) || unitWord(tokens[i + 1]?.w ?? ""))) {
    throw new UserInputError(`A length of time has to be more than zero. Try ${DURATION_EXAMPLES}.`);
  }
  const d: Duration = { ...ZERO };
  const units: Unit[] = [];
  let pos = i;
  let said = "";
  for (;;) {
    let start = pos;
    if (units.length) {
      // "an hour and a half": half of the unit just said.
      const w = (k: number) => tokens[pos + k]?.w;
      if (w(0) === "and" && w(1) === "a" && w(2) === "half" && !unitWord(w(3) ?? "")) {
        addAmount(d, units[units.length - 1], 0.5, "and a half");
        pos += 3;
        break;
      }
      if (tokens[pos]?.sep && tokens[pos].w === ",") start = pos + 1;
      else if (tokens[pos]?.w === "and") start = pos + 1;
    }
    const t = term(tokens, start);
    if (!t) break;
    const parts: [number, Unit][] = t.parts ?? [[t.amount, t.unit]];
    said = tokens
      .slice(start, t.end)
      .map((x) => x.raw)
      .join(" ");
    for (const [amount, unit] of parts) {
      const last = units[units.length - 1];
      if (last !== undefined && UNITS.indexOf(unit) <= UNITS.indexOf(last)) {
        throw new UserInputError(
          `I could not read “${tokens
            .slice(i, t.end)
            .map((x) => x.raw)
            .join(" ")}” as one duration: say each unit once, largest first, e.g. ${DURATION_EXAMPLES}.`,
        );
      }
      units.push(unit);
      addAmount(d, unit, amount, said);
    }
    pos = t.end;
  }
  return units.length ? { duration: d, end: pos, units } : undefined;
}

/** The whole text as a duration ("15m", "an hour"), or undefined when it is anything else. */
export function durationOfTokens(tokens: readonly Token[], opts: DurationOptions = {}): Duration | undefined {
  const read = readDuration(tokens, 0, opts);
  return read && read.end === tokens.length ? read.duration : undefined;
}

export function approximateMs(d: Duration): number {
  return UNITS.reduce((sum, unit) => sum + d[unit] * UNIT_MS[unit], 0);
}

export function isZero(d: Duration): boolean {
  return UNITS.every((u) => d[u] === 0);
}

/** Only days and longer (so "in 2 days at 5pm" may name a time of day). */
export function isWholeDays(d: Duration): boolean {
  return d.hours === 0 && d.minutes === 0 && d.seconds === 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "1 hour 30 minutes", "2 weeks 3 days": every unit that was said. */
export function describeDuration(d: Duration): string {
  const parts = UNITS.filter((u) => d[u] > 0).map((u) => plural(d[u], u.slice(0, -1)));
  return parts.length ? parts.join(" ") : "0 seconds";
}
