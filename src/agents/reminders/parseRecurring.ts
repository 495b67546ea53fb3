import { UserInputError } from "../../errors";
import { UNIT_MS, parseDurationPrefix } from "./duration";
import { describeDays, nextOccurrence, type IntervalUnit, type Recurrence } from "./recurrence";
import { formatTimeOfDay, nextTimeOfDay, parseTimeOfDay } from "./time";

export interface RecurringParse {
  recurrence: Recurrence;
  dueAt: Date;
  /** The text after the schedule (the message, not yet cleaned). */
  message: string;
}

const DEFAULT_TIME = { hour: 9, minute: 0 };

const RECURRING_HELP =
  "Try `every day at 9:00 standup`, `every 2 hours drink water`, `every monday at 10:00 review` or `every weekday at 8:30 check mail`.";

const ALIASES: [RegExp, string][] = [
  [/^daily\b/i, "every day"],
  [/^hourly\b/i, "every hour"],
  [/^weekly\b/i, "every week"],
  [/^monthly\b/i, "every month"],
  [/^yearly\b|^annually\b/i, "every year"],
];

const UNIT_NAMES: [RegExp, IntervalUnit][] = [
  [/^(?:seconds?|secs?)$/, "seconds"],
  [/^(?:minutes?|mins?)$/, "minutes"],
  [/^(?:hours?|hrs?)$/, "hours"],
  [/^days?$/, "days"],
  [/^weeks?$/, "weeks"],
  [/^months?$/, "months"],
  [/^years?$/, "years"],
];

const DAY_NAMES: [RegExp, number[]][] = [
  [/^(?:week ?days?|work ?days?)/, [1, 2, 3, 4, 5]],
  [/^week ?ends?/, [0, 6]],
  [/^(?:day|night)/, [0, 1, 2, 3, 4, 5, 6]],
  [/^mon(?:day)?s?/, [1]],
  [/^tue(?:s(?:day)?)?s?/, [2]],
  [/^wed(?:nesday)?s?/, [3]],
  [/^thu(?:rs?(?:day)?)?s?/, [4]],
  [/^fri(?:day)?s?/, [5]],
  [/^sat(?:urday)?s?/, [6]],
  [/^sun(?:day)?s?/, [0]],
];

const CALENDAR_UNITS: ReadonlySet<IntervalUnit> = new Set(["days", "weeks", "months", "years"]);

/** Day names at the start: "monday", "mon, wed and fri", "weekdays". */
function parseDays(text: string): { days: number[]; length: number } | undefined {
  const lower = text.toLowerCase();
  const days = new Set<number>();
  let pos = 0;
  for (;;) {
    const sep = days.size
      ? /^(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s*\+\s*|\s*\/\s*)/.exec(lower.slice(pos))
      : null;
    if (days.size && !sep) break;
    const start = pos + (sep ? sep[0].length : 0);
    const rest = lower.slice(start);
    const hit = DAY_NAMES.map(([re, d]) => [re.exec(rest), d] as const).find(
      ([m]) => m && !/^[a-z]/.test(rest.slice(m[0].length)),
    );
    if (!hit) break;
    hit[1].forEach((d) => days.add(d));
    pos = start + hit[0]![0].length;
  }
  return days.size
    ? { days: [...days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7)), length: pos }
    : undefined;
}

/** "every 2 hours", "every other day", "every hour", "every 30m". */
function parseUnit(text: string): { every: number; unit: IntervalUnit; length: number } | undefined {
  const m = /^(?:(\d+|other)\s+)?([a-z]+)/i.exec(text);
  if (m) {
    const unit = UNIT_NAMES.find(([re]) => re.test(m[2].toLowerCase()))?.[1];
    if (unit && !(unit === "days" && m[1] === undefined)) {
      const every = m[1] === undefined ? 1 : m[1].toLowerCase() === "other" ? 2 : Number(m[1]);
      return { every, unit, length: m[0].length };
    }
  }
  const compact = parseDurationPrefix(text);
  if (compact) {
    const entries = Object.entries(compact.parts);
    if (entries.length === 1) {
      const [unit, every] = entries[0] as [IntervalUnit, number];
      return { every, unit, length: compact.length };
    }
  }
  return undefined;
}

/** An optional "at 9:00" / "9am" after the schedule. */
function parseAt(text: string): { time?: { hour: number; minute: number }; length: number } {
  const at = /^\s*(?:at\s+)/i.exec(text);
  const lead = at ? at[0].length : (/^\s*/.exec(text)?.[0].length ?? 0);
  const time = parseTimeOfDay(text.slice(lead), Boolean(at));
  if (!time) {
    if (at) {
      const word = text.slice(lead).split(/\s+/)[0];
      throw new UserInputError(`I could not read the time “at ${word}”. Use 9:00, 17:30 or 9am.`);
    }
    return { length: 0 };
  }
  return { time: { hour: time.hour, minute: time.minute }, length: lead + time.length };
}

/**
 * A recurring schedule at the start of `text`, or undefined when the text is not one
 * (it does not start with "every"/"daily"/…). Throws UserInputError when it starts like one
 * but cannot be read.
 */
export function parseRecurring(text: string, opts: { now: Date; zone: string }): RecurringParse | undefined {
  let input = text.trim();
  for (const [re, replacement] of ALIASES) input = input.replace(re, replacement);
  const every = /^(?:every|each)\s+/i.exec(input);
  if (!every) return undefined;
  const rest = input.slice(every[0].length);

  const unit = parseUnit(rest);
  if (unit) {
    if (unit.every < 1) throw new UserInputError("The interval has to be at least 1.");
    const after = rest.slice(unit.length);
    const at = parseAt(after);
    const message = after.slice(at.length);
    if (unit.unit === "days" && unit.every === 1) return daily([0, 1, 2, 3, 4, 5, 6], at.time, message, opts);
    const calendar = CALENDAR_UNITS.has(unit.unit);
    const time = at.time ?? (calendar ? DEFAULT_TIME : undefined);
    const anchor = time
      ? nextTimeOfDay(opts.now, opts.zone, time.hour, time.minute)
      : new Date(opts.now.getTime() + unit.every * UNIT_MS[unit.unit]);
    const recurrence: Recurrence = {
      type: "interval",
      every: unit.every,
      unit: unit.unit,
      anchor: anchor.toISOString(),
      zone: opts.zone,
      ...(calendar && time ? { atTime: formatTimeOfDay(time.hour, time.minute) } : {}),
    };
    return { recurrence, dueAt: anchor, message };
  }

  const days = parseDays(rest);
  if (days) {
    const after = rest.slice(days.length);
    const at = parseAt(after);
    return daily(days.days, at.time, after.slice(at.length), opts);
  }
  throw new UserInputError(`I could not read how often to repeat after “every”. ${RECURRING_HELP}`);
}

/** Every given weekday at a time of day: a cron schedule in the user's zone. */
function daily(
  days: number[],
  time: { hour: number; minute: number } | undefined,
  message: string,
  opts: { now: Date; zone: string },
): RecurringParse {
  const { hour, minute } = time ?? DEFAULT_TIME;
  const key = [...days].sort().join(",");
  const dow = days.length === 7 ? "*" : key === "1,2,3,4,5" ? "1-5" : [...days].sort().join(",");
  const recurrence: Recurrence = {
    type: "cron",
    expr: `${minute} ${hour} * * ${dow}`,
    zone: opts.zone,
    words: `every ${describeDays(days)} at ${formatTimeOfDay(hour, minute)}`,
  };
  return { recurrence, dueAt: nextOccurrence(recurrence, opts.now)!, message };
}
