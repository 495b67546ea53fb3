/**
 * Durations as people type them: compact (`10m`, `1h30m`, `1h30`, `1d2h3m4s`, `1.5h`),
 * words (`90 seconds`, `2 days`, `1 hour and 30 minutes`, `an hour`, `half an hour`) and
 * clock style (`1:30` = 1 min 30 s, `1:00:00` = 1 h). Our own parser: every accepted form is
 * in the unit tests, and anything else is rejected rather than guessed.
 */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** Nothing longer than this is a duration (limits per user are lower; see config). */
export const MAX_PARSED_MS = 10 * 366 * DAY;

const UNITS: Record<string, number> = {};
for (const [ms, names] of [
  [SECOND, ["s", "sec", "secs", "second", "seconds"]],
  [MINUTE, ["m", "min", "mins", "minute", "minutes"]],
  [HOUR, ["h", "hr", "hrs", "hour", "hours"]],
  [DAY, ["d", "day", "days"]],
  [WEEK, ["w", "wk", "wks", "week", "weeks"]],
] as const) {
  for (const name of names) UNITS[name] = ms;
}

const NUMBER_WORDS: Record<string, number> = {
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
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  half: 0.5,
};

interface Token {
  kind: "num" | "word" | "sep";
  text: string;
  /** Whitespace came right before it. */
  spaced: boolean;
}

function lex(text: string): Token[] | null {
  const re = /(\s*)(?:(\d+(?:\.\d+)?)|([a-z]+)|(,))/y;
  const out: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || m[0].length === 0) return /^\s*$/.test(text.slice(pos)) ? out : null;
    const spaced = m[1].length > 0;
    if (m[2] !== undefined) out.push({ kind: "num", text: m[2], spaced });
    else if (m[3] !== undefined) out.push({ kind: "word", text: m[3], spaced });
    else out.push({ kind: "sep", text: ",", spaced });
    pos = re.lastIndex;
  }
  return out;
}

/** Milliseconds for the whole text, or null when it is not (only) a duration. */
export function parseDuration(input: string): number | null {
  const text = input.trim().toLowerCase();
  const clock = /^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$/.exec(text);
  if (clock) {
    const [a, b, c] = [
      Number(clock[1]),
      Number(clock[2]),
      clock[3] === undefined ? undefined : Number(clock[3]),
    ];
    const ms = c === undefined ? a * MINUTE + b * SECOND : a * HOUR + b * MINUTE + c * SECOND;
    return ms > 0 ? ms : null;
  }
  // "half an hour" = 0.5 hour; "an hour and a half" = 1.5 hours.
  const phrased = text
    .replace(/\bhalf an? (hour|minute|day|week)\b/g, "0.5 $1")
    .replace(/^(an?|one) (hour|minute|day|week) and a half$/, "1.5 $2");
  const tokens = lex(phrased);
  if (!tokens || tokens.length === 0) return null;
  let total = 0;
  const used = new Set<number>();
  let lastUnit: number | undefined;
  let i = 0;
  while (i < tokens.length) {
    if (i > 0 && (tokens[i].kind === "sep" || (tokens[i].kind === "word" && tokens[i].text === "and"))) {
      i++;
      if (i < tokens.length && tokens[i].kind === "sep") return null;
      continue;
    }
    const t = tokens[i];
    let amount: number;
    if (t.kind === "num") amount = Number(t.text);
    else if (t.kind === "word" && t.text in NUMBER_WORDS && tokens[i + 1]?.kind === "word") {
      amount = NUMBER_WORDS[t.text];
    } else return null;
    if (!Number.isFinite(amount)) return null;
    const next = tokens[i + 1];
    let unit: number | undefined;
    if (next?.kind === "word" && next.text in UNITS) {
      unit = UNITS[next.text];
      i += 2;
    } else if (
      !next &&
      t.kind === "num" &&
      !t.spaced &&
      i > 0 &&
      (lastUnit === HOUR || lastUnit === MINUTE)
    ) {
      // "1h30" and "5m30": a trailing bare number means the next smaller unit.
      if (t.text.includes(".")) return null;
      unit = lastUnit === HOUR ? MINUTE : SECOND;
      i += 1;
    } else return null;
    if (used.has(unit)) return null;
    used.add(unit);
    lastUnit = unit;
    total += amount * unit;
  }
  if (tokens[tokens.length - 1].kind === "sep" || tokens[tokens.length - 1].text === "and") return null;
  total = Math.round(total);
  if (!(total > 0) || total > MAX_PARSED_MS) return null;
  return total;
}

/**
 * The longest run of leading words that is a duration, and the rest (a timer's name):
 * "1h30m tea" → 1.5 h and "tea"; "1 hour 30 minutes tea break" → 1.5 h and "tea break".
 */
export function splitDuration(args: string): { ms: number; rest: string } | null {
  const words = args.trim().split(/\s+/).filter(Boolean);
  for (let n = Math.min(words.length, 12); n > 0; n--) {
    const ms = parseDuration(words.slice(0, n).join(" "));
    if (ms !== null) return { ms, rest: words.slice(n).join(" ") };
  }
  return null;
}

/** "1d 2h", "1h 30m", "4m 5s", "12s": the two largest non-zero parts, rounded to seconds. */
export function formatDuration(ms: number, parts = 2): string {
  let rest = Math.max(0, Math.round(ms / SECOND)) * SECOND;
  if (rest === 0) return "0s";
  const out: string[] = [];
  for (const [unit, label] of [
    [WEEK, "w"],
    [DAY, "d"],
    [HOUR, "h"],
    [MINUTE, "m"],
    [SECOND, "s"],
  ] as const) {
    if (rest >= unit) {
      out.push(`${Math.floor(rest / unit)}${label}`);
      rest %= unit;
    }
  }
  return out.slice(0, parts).join(" ");
}
