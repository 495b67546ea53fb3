import * as chrono from "chrono-node";
import { DateTime } from "luxon";
import { UserInputError } from "../../errors";
import {
  approximateMs,
  humanizeMs,
  parseDuration,
  parseDurationPrefix,
  type DurationParts,
} from "./duration";
import { cronProblem, nextOccurrence, shortestGapMs, type Recurrence } from "./recurrence";
import { parseRecurring } from "./parseRecurring";
import { formatTimeOfDay, inZone, offsetMinutes, wallClockToInstant, type WallClock } from "./time";
import { formatInstant } from "./format";

export interface ParseOptions {
  now: Date;
  /** The user's IANA timezone: every wall-clock time is read in it. */
  zone: string;
  /** Shortest allowed gap between firings of a recurring reminder. */
  minIntervalMs: number;
}

export interface ParsedReminder {
  dueAt: Date;
  message: string;
  recurrence?: Recurrence;
}

/** Nothing further ahead than this: a typo in the year should not create a reminder for 2206. */
export const MAX_AHEAD_MS = 10 * 365 * 86_400_000;

export const EXAMPLES =
  "Try `in 10 minutes stretch`, `tomorrow at 9am standup`, `at 17:30 go home`, `every day at 9:00 standup` or `cron 0 9 * * 1-5 standup`.";

/** Hours that chrono only implies but that the words chose ("tonight", "this evening"). */
const CASUAL_TIME = /casualReference\/(morning|afternoon|evening|night|tonight|noon|midnight|now)/;

/** The default time for a day without one ("tomorrow standup"). */
const DEFAULT_HOUR = 9;

/** "to stretch" → "stretch", ": standup" → "standup". */
export function cleanMessage(text: string): string {
  return text
    .trim()
    .replace(/^(?:[:,;\u2013\u2014-]+\s*)/, "")
    .replace(/^to\s+/i, "")
    .trim();
}

function requireMessage(message: string): string {
  if (message === "") {
    throw new UserInputError(
      "What should I remind you of? Put the message after the time, e.g. `in 10 minutes stretch`.",
    );
  }
  return message;
}

/** Adds a duration in `zone`: days and longer keep the wall-clock time, hours and less are exact. */
export function addDuration(now: Date, parts: DurationParts, zone: string): Date {
  return inZone(now, zone).plus(parts).toJSDate();
}

function checkFuture(at: Date, opts: ParseOptions): Date {
  if (at.getTime() <= opts.now.getTime()) {
    throw new UserInputError(
      `That time (${formatInstant(at, opts.zone)}) is in the past. Give me a time in the future.`,
    );
  }
  if (at.getTime() - opts.now.getTime() > MAX_AHEAD_MS) {
    throw new UserInputError("That is more than 10 years away; I only keep reminders up to 10 years ahead.");
  }
  return at;
}

/** A time that chrono read but left part of ("tomorrow at 25:00" → "at 25:00 …" remains). */
function rejectLeftoverTime(message: string): void {
  const m = /^(?:at|on)\s+\d[^\s]*/i.exec(message);
  if (m) throw new UserInputError(`I could not read the time in “${m[0]}”. ${EXAMPLES}`);
}

/** chrono's reading of `result` as an instant in the user's zone. */
function chronoInstant(result: chrono.ParsedResult, opts: ParseOptions): Date {
  const c = result.start;
  const tags = [...result.tags()].join(" ");
  const timeGiven = c.isCertain("hour") || CASUAL_TIME.test(tags);
  const wall: WallClock = {
    year: c.get("year")!,
    month: c.get("month")!,
    day: c.get("day")!,
    hour: timeGiven ? c.get("hour")! : DEFAULT_HOUR,
    minute: timeGiven ? (c.get("minute") ?? 0) : 0,
    second: c.isCertain("second") ? (c.get("second") ?? 0) : 0,
  };
  // "at 5pm EST": the text names its own offset.
  const zone = c.isCertain("timezoneOffset") ? fixedZone(c.get("timezoneOffset")!) : opts.zone;
  let at = wallClockToInstant(wall, zone);
  if (at.getTime() <= opts.now.getTime() && !c.isCertain("day") && !c.isCertain("month")) {
    // "at 17:30" after 17:30, "monday 8am" on Monday at noon: the next such time.
    const step = c.isCertain("weekday") ? 7 : 1;
    for (let i = 0; i < 8 && at.getTime() <= opts.now.getTime(); i++) {
      const next = DateTime.fromObject(wall, { zone }).plus({ days: step });
      Object.assign(wall, { year: next.year, month: next.month, day: next.day });
      at = wallClockToInstant(wall, zone);
    }
  }
  return at;
}

function fixedZone(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `UTC${sign}${formatTimeOfDay(Math.floor(abs / 60), abs % 60)}`;
}

function chronoParse(text: string, opts: ParseOptions): chrono.ParsedResult[] {
  return chrono.parse(
    text,
    { instant: opts.now, timezone: offsetMinutes(opts.now, opts.zone) },
    { forwardDate: true },
  );
}

/** A one-off reminder: the time first ("in 10 minutes stretch") or last ("stretch in 10 minutes"). */
export function parseOnce(spec: string, opts: ParseOptions): ParsedReminder {
  const text = spec.trim();
  const results = chronoParse(text, opts);
  const leading = results.find((r) => r.index === 0 || /^(?:at|on)\s+$/i.test(text.slice(0, r.index)));

  const inMatch = /^in\s+/i.exec(text);
  const duration = inMatch ? parseDurationPrefix(text.slice(inMatch[0].length)) : undefined;
  const durationEnd = duration && inMatch ? inMatch[0].length + duration.length : 0;
  const leadingEnd = leading ? leading.index + leading.text.length : 0;
  // "in 3 days at 5pm": chrono reads more than the bare duration, so it wins.
  if (duration && leadingEnd <= durationEnd) {
    const message = cleanMessage(text.slice(durationEnd));
    rejectLeftoverTime(message);
    return {
      dueAt: checkFuture(addDuration(opts.now, duration.parts, opts.zone), opts),
      message: requireMessage(message),
    };
  }
  if (leading) {
    const message = cleanMessage(text.slice(leadingEnd));
    rejectLeftoverTime(message);
    return { dueAt: checkFuture(chronoInstant(leading, opts), opts), message: requireMessage(message) };
  }

  // Time last: "stretch in 10 minutes", "call Bob at 5pm", "standup tomorrow at 9am".
  for (const m of text.matchAll(/\s+in\s+/gi)) {
    const parts = parseDuration(text.slice(m.index! + m[0].length));
    if (parts) {
      return {
        dueAt: checkFuture(addDuration(opts.now, parts, opts.zone), opts),
        message: requireMessage(cleanMessage(text.slice(0, m.index))),
      };
    }
  }
  const trailing = results.find((r) => r.index > 0 && r.index + r.text.length === text.length);
  if (trailing) {
    const message = cleanMessage(text.slice(0, trailing.index).replace(/\s+(?:on|at)$/i, ""));
    return { dueAt: checkFuture(chronoInstant(trailing, opts), opts), message: requireMessage(message) };
  }
  throw new UserInputError(`I could not find a time in that. ${EXAMPLES}`);
}

/** Checks a recurrence against min_interval_seconds. */
export function checkInterval(rec: Recurrence, opts: ParseOptions): void {
  const gap = shortestGapMs(rec, opts.now);
  if (gap < opts.minIntervalMs) {
    throw new UserInputError(
      `That repeats too often (every ${humanizeMs(gap)}); reminders may repeat at most every ${humanizeMs(opts.minIntervalMs)}.`,
    );
  }
}

/** `cron <minute> <hour> <day-of-month> <month> <day-of-week> <message>` */
export function parseCron(spec: string, opts: ParseOptions): ParsedReminder {
  const tokens = spec.trim().split(/\s+/);
  const fields = tokens.slice(0, 5);
  const sixth = tokens[5];
  if (fields.length < 5 || (sixth !== undefined && /^[\d*,/-]*[*/][\d*,/-]*$/.test(sixth))) {
    const count = fields.length < 5 ? fields.length : tokens.filter((t) => /^[\d*,/-]+$/.test(t)).length;
    throw new UserInputError(
      `A cron schedule has exactly 5 fields (minute hour day-of-month month day-of-week), e.g. \`cron 0 9 * * 1-5 standup\`; I found ${count}.`,
    );
  }
  const expr = fields.join(" ");
  const problem = cronProblem(expr);
  if (problem) throw new UserInputError(problem);
  const message = requireMessage(cleanMessage(tokens.slice(5).join(" ")));
  const recurrence: Recurrence = { type: "cron", expr, zone: opts.zone };
  checkInterval(recurrence, opts);
  const dueAt = nextOccurrence(recurrence, opts.now)!;
  return { dueAt: checkFuture(dueAt, opts), message, recurrence };
}

/**
 * Reads a reminder: one-off ("in 10 minutes …", "tomorrow at 9am …", "at 17:30 …"),
 * recurring ("every day at 9:00 …", "every 2 hours …", "every monday at 10:00 …") or cron.
 * Throws UserInputError with a message meant for the user.
 */
export function parseReminder(spec: string, opts: ParseOptions): ParsedReminder {
  const text = spec.trim();
  if (text === "") throw new UserInputError(`Tell me when and what. ${EXAMPLES}`);
  const cron = /^cron\s+/i.exec(text);
  if (cron) return parseCron(text.slice(cron[0].length), opts);
  const recurring = parseRecurring(text, opts);
  if (recurring) {
    const message = cleanMessage(recurring.message);
    rejectLeftoverTime(message);
    checkInterval(recurring.recurrence, opts);
    return {
      dueAt: checkFuture(recurring.dueAt, opts),
      message: requireMessage(message),
      recurrence: recurring.recurrence,
    };
  }
  return parseOnce(text, opts);
}

/** The snooze length: "15m", "1 hour"; refuses nonsense and zero. */
export function parseSnooze(text: string): DurationParts {
  const parts = parseDuration(text);
  if (!parts || approximateMs(parts) <= 0) {
    throw new UserInputError(`I could not read “${text}” as a duration. Try \`15m\`, \`1h\` or \`2 days\`.`);
  }
  if (approximateMs(parts) > MAX_AHEAD_MS) {
    throw new UserInputError("I can snooze for at most 10 years.");
  }
  return parts;
}
