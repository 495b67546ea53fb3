import { UserInputError } from "../../../errors";
import { monthName } from "./days";
import type { TimeContext } from "./instant";
import { describeDays, ordinal, type IntervalUnit, type Recurrence } from "./recurrence";
import { formatTimeOfDay, inZone, wallClockToInstant } from "./zone";

// The repetitions the grammar builds (recurring.ts reads the words), and their first days.

export function cronDaily(days: number[], hour: number, minute: number, zone: string): Recurrence {
  const sorted = [...days].sort();
  const key = sorted.join(",");
  const dow = days.length === 7 ? "*" : key === "1,2,3,4,5" ? "1-5" : key;
  return {
    type: "cron",
    expr: `${minute} ${hour} * * ${dow}`,
    zone,
    words: `every ${describeDays(days)} at ${formatTimeOfDay(hour, minute)}`,
  };
}

/** Every n days, weeks or months at a time of day, from `anchor` on (calendar steps in `zone`). */
export function calendarInterval(
  every: number,
  unit: IntervalUnit,
  anchor: Date,
  time: { hour: number; minute: number },
  zone: string,
): Recurrence {
  const atTime = formatTimeOfDay(time.hour, time.minute);
  return { type: "interval", every, unit, anchor: anchor.toISOString(), zone, atTime };
}

export function monthly(
  dom: number,
  hour: number,
  minute: number,
  zone: string,
  notes: string[],
): Recurrence {
  if (dom > 28) notes.push(`months without a ${ordinal(dom)} are skipped`);
  return {
    type: "cron",
    expr: `${minute} ${hour} ${dom} * *`,
    zone,
    words: `on the ${ordinal(dom)} of every month at ${formatTimeOfDay(hour, minute)}`,
  };
}

export function yearly(month: number, day: number, hour: number, minute: number, zone: string): Recurrence {
  if (month === 2 && day === 29) {
    throw new UserInputError(
      "29 February comes only every four years; say `every year on feb 28` or `on march 1`.",
    );
  }
  return {
    type: "cron",
    expr: `${minute} ${hour} ${day} ${month} *`,
    zone,
    words: `every year on ${day} ${monthName(month)} at ${formatTimeOfDay(hour, minute)}`,
  };
}

export function nextDayOfMonth(ctx: TimeContext, dom: number, hour: number, minute: number): Date {
  let month = inZone(ctx.now, ctx.zone).startOf("month");
  for (;;) {
    const at = wallClockToInstant({ year: month.year, month: month.month, day: dom, hour, minute }, ctx.zone);
    if (at.getTime() > ctx.now.getTime()) return at;
    month = month.plus({ months: 1 });
  }
}

/** The next `weekday` (0 = Sunday) at hour:minute in the user's zone, still ahead. */
export function nextWeekday(ctx: TimeContext, weekday: number, hour: number, minute: number): Date {
  const day = inZone(ctx.now, ctx.zone).startOf("day");
  for (let k = 0; k < 8; k++) {
    const d = day.plus({ days: k });
    if (d.weekday % 7 !== weekday) continue;
    const at = wallClockToInstant({ year: d.year, month: d.month, day: d.day, hour, minute }, ctx.zone);
    if (at.getTime() > ctx.now.getTime()) return at;
  }
  throw new Error("unreachable: no such weekday within eight days");
}
