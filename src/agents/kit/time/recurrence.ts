import { Cron } from "croner";
import { DateTime } from "luxon";
import { UNIT_MS } from "./duration";
import { formatTimeOfDay, inZone, nextTimeOfDay, wallClockToInstant } from "./zone";

export type IntervalUnit = "seconds" | "minutes" | "hours" | "days" | "weeks" | "months" | "years";

/**
 * How a reminder repeats. Stored as JSON with the reminder.
 * - interval: anchor + k × (every unit), k = 0, 1, 2…; days and longer are calendar steps in
 *   `zone` (same wall-clock time across DST), hours and shorter are physical time.
 * - cron: a 5-field cron expression evaluated in `zone` (also used for "every day at 9:00" and
 *   "every monday at 10:00"); `words` is how the user said it, when they did not write cron.
 */
export type Recurrence =
  | {
      type: "interval";
      every: number;
      unit: IntervalUnit;
      anchor: string;
      zone: string;
      atTime?: string;
      /** "every other week on friday": the weekday (0 = Sunday) the anchor falls on. */
      weekday?: number;
    }
  | { type: "cron"; expr: string; zone: string; words?: string };

export const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const CALENDAR: ReadonlySet<IntervalUnit> = new Set(["days", "weeks", "months", "years"]);

/** Validates a 5-field cron expression; returns an error message for the user, or undefined. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `A cron schedule has exactly 5 fields (minute hour day-of-month month day-of-week), e.g. \`cron 0 9 * * 1-5 standup\`; \`${expr}\` has ${fields.length}.`;
  }
  try {
    const job = new Cron(expr, { paused: true, timezone: "UTC" });
    if (!job.nextRun(new Date())) return `The cron schedule \`${expr}\` never fires.`;
    return undefined;
  } catch (err) {
    const detail = (err as Error).message.replace(/^CronPattern:\s*/, "");
    return `\`${expr}\` is not a valid cron schedule: ${detail}.`;
  }
}

function cronJob(rec: Extract<Recurrence, { type: "cron" }>): Cron {
  return new Cron(rec.expr, { paused: true, timezone: rec.zone });
}

function intervalAt(rec: Extract<Recurrence, { type: "interval" }>, k: number): Date {
  const anchor = DateTime.fromISO(rec.anchor, { zone: rec.zone });
  if (CALENDAR.has(rec.unit)) return anchor.plus({ [rec.unit]: rec.every * k }).toJSDate();
  return new Date(anchor.toMillis() + k * rec.every * UNIT_MS[rec.unit]);
}

/**
 * The first occurrence strictly after `after`. After downtime this skips the occurrences that
 * were missed (the late delivery stands for them) instead of firing them all at once.
 */
export function nextOccurrence(rec: Recurrence, after: Date): Date | null {
  if (rec.type === "cron") return cronJob(rec).nextRun(after);
  const anchorMs = DateTime.fromISO(rec.anchor).toMillis();
  const stepMs = rec.every * UNIT_MS[rec.unit];
  // Estimate k, then correct it both ways (calendar steps vary in length).
  let k = Math.max(0, Math.floor((after.getTime() - anchorMs) / stepMs));
  while (k > 0 && intervalAt(rec, k - 1).getTime() > after.getTime()) k--;
  let at = intervalAt(rec, k);
  while (at.getTime() <= after.getTime()) at = intervalAt(rec, ++k);
  return at;
}

/** How many occurrences fell in (from, to]: the ones a late delivery stands for. */
export function occurrencesBetween(rec: Recurrence, from: Date, to: Date, cap = 1000): number {
  let count = 0;
  let at = nextOccurrence(rec, from);
  while (at && at.getTime() <= to.getTime() && count < cap) {
    count++;
    at = nextOccurrence(rec, at);
  }
  return count;
}

/** The shortest gap between consecutive firings (checked against min_interval_seconds). */
export function shortestGapMs(rec: Recurrence, from: Date): number {
  if (rec.type === "interval") {
    return CALENDAR.has(rec.unit) ? rec.every * UNIT_MS[rec.unit] * 0.9 : rec.every * UNIT_MS[rec.unit];
  }
  const runs = cronJob(rec).nextRuns(8, from);
  let gap = Infinity;
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, runs[i].getTime() - runs[i - 1].getTime());
  return gap;
}

function plural(n: number, unit: IntervalUnit): string {
  const singular = unit.slice(0, -1);
  return n === 1 ? singular : `${n} ${unit}`;
}

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "1-5" → [1..5], "1,3,5" → [1,3,5]; undefined when not plain numbers and ranges. */
function expandDays(field: string): number[] | undefined {
  const days = new Set<number>();
  for (const part of field.split(",")) {
    const m = /^(\d)(?:-(\d))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > 7 || to > 7 || to < from) return undefined;
    for (let d = from; d <= to; d++) days.add(d % 7);
  }
  return [...days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7));
}

/** Words for a day-of-week set: "day", "weekday (Monday to Friday)", "Monday and Thursday". */
export function describeDays(days: number[]): string {
  const key = [...days].sort().join(",");
  if (key === "0,1,2,3,4,5,6") return "day";
  if (key === "1,2,3,4,5") return "weekday (Monday to Friday)";
  if (key === "0,6") return "weekend day (Saturday and Sunday)";
  return listWords(days.map((d) => WEEKDAY_NAMES[d]));
}

/** Best-effort English for common cron shapes; undefined for the rest. */
export function describeCron(expr: string): string | undefined {
  const [min, hour, dom, month, dow] = expr.trim().split(/\s+/);
  const isNum = (s: string) => /^\d{1,2}$/.test(s);
  if (isNum(min) && isNum(hour) && month === "*") {
    const at = formatTimeOfDay(Number(hour), Number(min));
    if (dom === "*") {
      const days = dow === "*" ? [0, 1, 2, 3, 4, 5, 6] : expandDays(dow);
      if (days) return `every ${describeDays(days)} at ${at}`;
    } else if (isNum(dom) && dow === "*") {
      return `on the ${ordinal(Number(dom))} of every month at ${at}`;
    }
  }
  if (isNum(min) && isNum(hour) && isNum(dom) && isNum(month) && dow === "*") {
    return `every year on ${Number(dom)} ${MONTHS[Number(month) - 1]} at ${formatTimeOfDay(Number(hour), Number(min))}`;
  }
  if (isNum(min) && hour === "*" && dom === "*" && month === "*" && dow === "*") {
    return `every hour at minute ${Number(min)}`;
  }
  const step = /^\*\/(\d+)$/.exec(min);
  if (step && hour === "*" && dom === "*" && month === "*" && dow === "*") {
    return Number(step[1]) === 1 ? "every minute" : `every ${Number(step[1])} minutes`;
  }
  if (min === "*" && hour === "*" && dom === "*" && month === "*" && dow === "*") return "every minute";
  return undefined;
}

/** The recurrence in words, e.g. "every 2 hours", "every weekday (Monday to Friday) at 09:00". */
export function describeRecurrence(rec: Recurrence): string {
  if (rec.type === "cron") {
    if (rec.words) return rec.words;
    const words = describeCron(rec.expr);
    return words ? `${words} (cron \`${rec.expr}\`)` : `on the cron schedule \`${rec.expr}\``;
  }
  const base = `every ${rec.every === 2 && CALENDAR.has(rec.unit) ? `other ${rec.unit.slice(0, -1)}` : plural(rec.every, rec.unit)}`;
  const on = rec.weekday !== undefined ? ` on ${WEEKDAY_NAMES[rec.weekday]}` : "";
  return rec.atTime ? `${base}${on} at ${rec.atTime}` : `${base}${on}`;
}

const MONTHS = "January February March April May June July August September October November December".split(
  " ",
);

export function ordinal(n: number): string {
  const suffix =
    n % 10 === 1 && n !== 11
      ? "st"
      : n % 10 === 2 && n !== 12
        ? "nd"
        : n % 10 === 3 && n !== 13
          ? "rd"
          : "th";
  return `${n}${suffix}`;
}

/**
 * The recurrence read in another zone (the user changed `tz`): the same wall-clock times there.
 * Undefined when it does not depend on the zone (every 2 hours) or is already in it.
 */
export function rezone(rec: Recurrence, zone: string, now: Date): Recurrence | undefined {
  if (rec.zone === zone) return undefined;
  if (rec.type === "cron") return { ...rec, zone };
  if (!rec.atTime) return undefined;
  const [hour, minute] = rec.atTime.split(":").map(Number);
  let anchor = nextTimeOfDay(now, zone, hour, minute);
  if (rec.weekday !== undefined) {
    let day = inZone(anchor, zone);
    while (day.weekday % 7 !== rec.weekday) day = day.plus({ days: 1 });
    anchor = wallClockToInstant({ year: day.year, month: day.month, day: day.day, hour, minute }, zone);
  }
  return { ...rec, zone, anchor: anchor.toISOString() };
}
