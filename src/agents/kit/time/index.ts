/**
 * The time-and-duration grammar every agent shares (README, "How agents read times").
 * Hand-written over words (tokens.ts), with luxon for every calendar and zone calculation,
 * croner for cron schedules and chrono-node as a second opinion on leftover time words.
 */
import { UserInputError } from "../../../errors";
import { approximateMs, describeDuration, isZero, DURATION_EXAMPLES, type Duration } from "./duration";
import { durationReader, checkNoTimeInText, locate, whenReader, type Located, type When } from "./phrase";
import type { TimeContext } from "./instant";
import { tokenize } from "./tokens";
import { readDuration } from "./duration";
import { capArguments } from "../limits";

/** Longest text the time grammar reads (a reminder's text and its time, a timer and its name). */
export const MAX_TIME_TEXT = 4_000;

export type { Duration } from "./duration";
export type { TimeContext } from "./instant";
export type { When, Located } from "./phrase";
export type { Recurrence, IntervalUnit } from "./recurrence";
export {
  nextOccurrence,
  occurrencesBetween,
  shortestGapMs,
  describeRecurrence,
  describeCron,
  describeDays,
  cronProblem,
  rezone,
} from "./recurrence";
export { addDuration, DEFAULT_HOUR } from "./instant";
export { approximateMs, describeDuration, DURATION_EXAMPLES, UNIT_MS } from "./duration";
export { humanizeMs, relative, formatWhen, formatCompactDuration } from "./format";
export {
  canonicalZone,
  formatInstant,
  formatTimeOfDay,
  inZone,
  nextTimeOfDay,
  wallClockToInstant,
} from "./zone";
export { RECURRING_EXAMPLES } from "./recurring";

/** Nothing further ahead than this: a typo in a year should not make a reminder for 2206. */
export const MAX_AHEAD_MS = 10 * 365 * 86_400_000;

export const WHEN_EXAMPLES =
  "`in 10 minutes stretch`, `tomorrow at 9am standup`, `friday 14:00 demo`, `every weekday at 8:30 mail` or `cron 0 9 * * 1-5 standup`";

/** A message's time (a moment or a repetition) and its text; refuses what it cannot read exactly. */
export function readTimeAndText(
  text: string,
  ctx: TimeContext,
  opts: { recurring?: boolean; example?: string; examples?: string } = {},
): Located<When> {
  capArguments(text, MAX_TIME_TEXT);
  const found = locate(text, whenReader(ctx, { recurring: opts.recurring ?? true }), "`in 1h30m tea`");
  if (!found)
    throw new UserInputError(`I could not find a time in that. Try ${opts.examples ?? WHEN_EXAMPLES}.`);
  checkNoTimeInText(found, opts.example ?? '`in 10 minutes "call about tomorrow"`');
  if (found.value.kind === "once") checkAhead(found.value.at, ctx, found.value.duration);
  return found;
}

/** A length of time and the words around it (a timer's name); undefined when there is no length. */
export function readDurationAndText(
  text: string,
  example: string,
  opts: { preferEnd?: boolean } = {},
): Located<Duration> | undefined {
  capArguments(text, MAX_TIME_TEXT);
  const found = locate(text, durationReader, DURATION_EXAMPLES, opts);
  if (!found) return undefined;
  checkDuration(found.value);
  checkNoTimeInText(found, example);
  return found;
}

/** The whole text as one duration ("15m", "1 hour"); undefined when it is anything else. */
export function readWholeDuration(text: string): Duration | undefined {
  capArguments(text, MAX_TIME_TEXT);
  const tokens = tokenize(text);
  const read = readDuration(tokens, tokens[0]?.w === "in" || tokens[0]?.w === "for" ? 1 : 0, { clock: true });
  if (!read || read.end !== tokens.length) return undefined;
  checkDuration(read.duration);
  return read.duration;
}

/** Zero, negative and absurd lengths get one clear message that names a valid form. */
export function checkDuration(d: Duration, maxMs = MAX_AHEAD_MS): void {
  if (isZero(d)) {
    throw new UserInputError(`A length of time has to be more than zero. Try ${DURATION_EXAMPLES}.`);
  }
  if (approximateMs(d) > maxMs) {
    throw new UserInputError(
      `${describeDuration(d)} is longer than I can keep track of (at most ${Math.round(maxMs / (365 * 86_400_000))} years). Try ${DURATION_EXAMPLES}.`,
    );
  }
}

function checkAhead(at: Date, ctx: TimeContext, d?: Duration): void {
  if (d) checkDuration(d);
  if (at.getTime() <= ctx.now.getTime()) {
    throw new UserInputError("That time is not in the future. Give me a later one, e.g. `tomorrow at 9`.");
  }
  if (at.getTime() - ctx.now.getTime() > MAX_AHEAD_MS) {
    throw new UserInputError("That is more than 10 years away; I keep times up to 10 years ahead.");
  }
}
