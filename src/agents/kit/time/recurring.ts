import { UserInputError } from "../../../errors";
import { readDay } from "./days";
import { UNIT_MS, readDuration, type Duration } from "./duration";
import { readTimeOfDay, type DayHalf, type TimeOfDayRead } from "./timeOfDay";
import type { TimeContext } from "./instant";
import { nextOccurrence, type IntervalUnit, type Recurrence } from "./recurrence";
import type { Token } from "./tokens";
import { UNITS, ordinalWord, unitWord, weekdayWord } from "./words";
import { formatTimeOfDay, nextTimeOfDay } from "./zone";
import { calendarInterval, cronDaily, monthly, nextDayOfMonth, nextWeekday, yearly } from "./schedules";

export interface RecurrenceRead {
  recurrence: Recurrence;
  first: Date;
  end: number;
  notes: string[];
}

export const RECURRING_EXAMPLES =
  "`every day at 7`, `every weekday at 8:30`, `every mon, wed and fri at 19:00`, `every 2 hours`, `every month on the 1st at 9` or `every year on march 3`";

const ALIASES: Record<string, string> = {
  daily: "day",
  hourly: "hour",
  weekly: "week",
  monthly: "month",
  yearly: "year",
  annually: "year",
  nightly: "night",
};

const PART_DEFAULTS: Record<string, { hour: number; half: DayHalf }> = {
  day: { hour: 9, half: undefined as unknown as DayHalf },
  morning: { hour: 9, half: "am" },
  afternoon: { hour: 15, half: "pm" },
  evening: { hour: 18, half: "pm" },
  night: { hour: 20, half: "pm" },
};

function refuse(what: string, example: string): never {
  throw new UserInputError(`${what} Try ${example}.`);
}

/** "at 7", "at 19:00", "7am" after the schedule. */
function readAt(tokens: readonly Token[], i: number, half?: DayHalf): TimeOfDayRead | undefined {
  const w = tokens[i]?.w;
  if (w === "at" || w === "@") {
    const t = readTimeOfDay(tokens, i + 1, { bare: true, half });
    if (!t) refuse(`I could not read the time after “at”.`, "`at 9:00`, `at 17:30` or `at 9am`");
    return t;
  }
  return readTimeOfDay(tokens, i, { half });
}

/** Weekday names in a list: "mon, wed and fri", "monday & thursday", "mon/wed". */
function readWeekdays(tokens: readonly Token[], i: number): { days: number[]; end: number } | undefined {
  const days = new Set<number>();
  let pos = i;
  let end = i;
  for (;;) {
    const t = tokens[pos];
    if (!t) break;
    const names = t.w.split("/");
    if (names.length > 7 || !names.every((n) => weekdayWord(n) !== undefined)) break;
    names.forEach((n) => days.add(weekdayWord(n)!));
    pos++;
    end = pos;
    if (tokens[pos]?.w === "," || tokens[pos]?.w === "&" || tokens[pos]?.w === "+") pos++;
    if (tokens[pos]?.w === "and") pos++;
  }
  return days.size ? { days: [...days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7)), end } : undefined;
}

/** What follows the schedule: an optional time, defaulting to 09:00 (said in the notes). */
function timeAfter(
  tokens: readonly Token[],
  pos: number,
  notes: string[],
  fallback = { hour: 9, half: undefined as DayHalf | undefined },
): { hour: number; minute: number; end: number } {
  const t = readAt(tokens, pos, fallback.half);
  if (t) {
    if (t.note) notes.push(t.note);
    return { hour: t.hour, minute: t.minute, end: t.end };
  }
  if (fallback.hour === 9 && !fallback.half) notes.push("no time given: 09:00");
  return { hour: fallback.hour, minute: 0, end: pos };
}

/** A single unit said as a word after "every": "hour", "week", "2 hours", "30m". */
function readEvery(
  tokens: readonly Token[],
  i: number,
): { every: number; unit: IntervalUnit; end: number; d?: Duration } | undefined {
  const w = tokens[i]?.w;
  if (w === "other") {
    const unit = unitWord(tokens[i + 1]?.w ?? "");
    if (unit && ["days", "weeks", "months", "years"].includes(unit)) return { every: 2, unit, end: i + 2 };
    return undefined;
  }
  const bare = unitWord(w ?? "");
  if (bare && /^[a-z]/.test(w!) && w!.length > 1) return { every: 1, unit: bare, end: i + 1 };
  const read = readDuration(tokens, i);
  if (!read) return undefined;
  const used = UNITS.filter((u) => read.duration[u] > 0);
  if (used.length === 0) throw new UserInputError("A repetition has to be at least 1, e.g. `every 2 hours`.");
  if (used.length === 1)
    return { every: read.duration[used[0]], unit: used[0], end: read.end, d: read.duration };
  // "every 1h30": exact time, counted in minutes (or seconds).
  if (used.every((u) => UNIT_MS[u] < UNIT_MS.days)) {
    const seconds = read.duration.hours * 3600 + read.duration.minutes * 60 + read.duration.seconds;
    return seconds % 60 === 0
      ? { every: seconds / 60, unit: "minutes", end: read.end }
      : { every: seconds, unit: "seconds", end: read.end };
  }
  refuse(
    "I can repeat by days or by hours, not both at once.",
    "`every 2 days at 18:00` or `every 36 hours`",
  );
}

/**
 * A repetition at token `i`: "every day at 7", "daily", "every weekday at 8:30", "every mon, wed
 * and fri at 19:00", "every 2 hours", "every other day at 18:00", "every other week on friday",
 * "every month on the 1st at 9", "every year on march 3". Undefined when none starts here.
 */
export function readRecurrence(
  tokens: readonly Token[],
  i: number,
  ctx: TimeContext,
): RecurrenceRead | undefined {
  const head = tokens[i]?.w;
  if (!head) return undefined;
  let pos: number;
  let word: string | undefined;
  if (head === "every" || head === "each") {
    pos = i + 1;
    word = tokens[pos]?.w;
  } else if (Object.hasOwn(ALIASES, head)) {
    pos = i; // the alias stands for "every <unit>"
    word = ALIASES[head];
  } else {
    return undefined;
  }
  if (!word) refuse("Every what?", RECURRING_EXAMPLES);
  const notes: string[] = [];
  const zone = ctx.zone;
  const step = head === "every" || head === "each" ? 1 : 0;
  const afterWord = pos + 1;

  // every day / morning / evening / night
  if (Object.hasOwn(PART_DEFAULTS, word)) {
    const fallback = PART_DEFAULTS[word];
    const t = timeAfter(tokens, afterWord, notes, {
      hour: fallback.hour,
      half: word === "day" ? undefined : fallback.half,
    });
    return finish(cronDaily([0, 1, 2, 3, 4, 5, 6], t.hour, t.minute, zone), t.end, notes, ctx);
  }
  if (["weekday", "weekdays", "workday", "workdays"].includes(word)) {
    const t = timeAfter(tokens, afterWord, notes);
    return finish(cronDaily([1, 2, 3, 4, 5], t.hour, t.minute, zone), t.end, notes, ctx);
  }
  if (["weekend", "weekends"].includes(word)) {
    const t = timeAfter(tokens, afterWord, notes);
    return finish(cronDaily([6, 0], t.hour, t.minute, zone), t.end, notes, ctx);
  }
  if (step) {
    const days = readWeekdays(tokens, pos);
    if (days) {
      const t = timeAfter(tokens, days.end, notes);
      return finish(cronDaily(days.days, t.hour, t.minute, zone), t.end, notes, ctx);
    }
    // "every other friday"
    const otherDay = tokens[pos]?.w === "other" ? weekdayWord(tokens[pos + 1]?.w ?? "") : undefined;
    if (otherDay !== undefined) return weeksOn(tokens, pos + 2, 2, otherDay, notes, ctx);
    // "every march 3", "every 1st of the month"
    const date = readDay(tokens, pos);
    if (date?.spec.kind === "date" && date.spec.year === undefined) {
      const t = timeAfter(tokens, date.end, notes);
      return finish(yearly(date.spec.month, date.spec.day, t.hour, t.minute, zone), t.end, notes, ctx);
    }
    const dom = ordinalWord(tokens[pos]?.w ?? "");
    if (dom !== undefined) {
      let end = pos + 1;
      const w = (k: number) => tokens[end + k]?.w;
      if (w(0) === "of" && (w(1) === "the" || w(1) === "every" || w(1) === "each") && w(2) === "month")
        end += 3;
      const t = timeAfter(tokens, end, notes);
      return finish(monthly(dom, t.hour, t.minute, zone, notes), t.end, notes, ctx);
    }
  }

  const every = step ? readEvery(tokens, pos) : { every: 1, unit: unitWord(word)!, end: pos + 1 };
  if (!every) refuse(`I could not read how often to repeat after “${tokens[i].raw}”.`, RECURRING_EXAMPLES);
  const { unit, end } = every;
  const n = every.every;
  if (unit === "seconds" || unit === "minutes" || unit === "hours") {
    const anchor = new Date(ctx.now.getTime() + n * UNIT_MS[unit]);
    return finish({ type: "interval", every: n, unit, anchor: anchor.toISOString(), zone }, end, notes, ctx);
  }
  if (unit === "days") {
    const t = timeAfter(tokens, end, notes);
    if (n === 1) return finish(cronDaily([0, 1, 2, 3, 4, 5, 6], t.hour, t.minute, zone), t.end, notes, ctx);
    const anchor = nextTimeOfDay(ctx.now, zone, t.hour, t.minute);
    return finish(calendarInterval(n, unit, anchor, t, zone), t.end, notes, ctx);
  }
  if (unit === "weeks") {
    const on = tokens[end]?.w === "on" ? end + 1 : end;
    const days = readWeekdays(tokens, on);
    if (!days) {
      const every = n === 1 ? "every week" : n === 2 ? "every other week" : `every ${n} weeks`;
      refuse("On which day of the week?", `\`${every} on friday at 9\``);
    }
    if (n === 1) {
      const t = timeAfter(tokens, days.end, notes);
      return finish(cronDaily(days.days, t.hour, t.minute, zone), t.end, notes, ctx);
    }
    if (days.days.length > 1)
      refuse("Every few weeks works on one day of the week.", "`every other week on friday`");
    return weeksOn(tokens, days.end, n, days.days[0], notes, ctx);
  }
  if (unit === "months") {
    const w = (k: number) => tokens[end + k]?.w;
    let p = end;
    if (w(0) === "on") p++;
    if (tokens[p]?.w === "the") p++;
    const dom =
      ordinalWord(tokens[p]?.w ?? "") ??
      (/^\d{1,2}$/.test(tokens[p]?.w ?? "") && w(0) === "on" ? Number(tokens[p].w) : undefined);
    if (dom === undefined || dom < 1 || dom > 31)
      refuse("On which day of the month?", "`every month on the 1st at 9`");
    const t = timeAfter(tokens, p + 1, notes);
    if (n === 1) return finish(monthly(dom, t.hour, t.minute, zone, notes), t.end, notes, ctx);
    if (dom > 28)
      refuse(
        "Every few months works on days 1 to 28 (not every month has the others).",
        "`every 3 months on the 1st`",
      );
    const first = nextDayOfMonth(ctx, dom, t.hour, t.minute);
    return finish(calendarInterval(n, unit, first, t, zone), t.end, notes, ctx);
  }
  // years
  const on = tokens[end]?.w === "on" ? end + 1 : end;
  const date = readDay(tokens, on);
  if (!date || date.spec.kind !== "date" || date.spec.year !== undefined) {
    refuse("On which date?", "`every year on march 3`");
  }
  if (n !== 1) refuse("I repeat dates every year, not every few years.", "`every year on march 3`");
  const t = timeAfter(tokens, date.end, notes);
  return finish(yearly(date.spec.month, date.spec.day, t.hour, t.minute, zone), t.end, notes, ctx);
}

/** Every n weeks on one weekday: a calendar interval anchored on the next such day. */
function weeksOn(
  tokens: readonly Token[],
  pos: number,
  n: number,
  weekday: number,
  notes: string[],
  ctx: TimeContext,
): RecurrenceRead {
  const t = timeAfter(tokens, pos, notes);
  const anchor = nextWeekday(ctx, weekday, t.hour, t.minute);
  const recurrence: Recurrence = {
    type: "interval",
    every: n,
    unit: "weeks",
    anchor: anchor.toISOString(),
    zone: ctx.zone,
    atTime: formatTimeOfDay(t.hour, t.minute),
    weekday,
  };
  return finish(recurrence, t.end, notes, ctx);
}

function finish(recurrence: Recurrence, end: number, notes: string[], ctx: TimeContext): RecurrenceRead {
  const first = nextOccurrence(recurrence, ctx.now);
  if (!first) throw new UserInputError("That schedule never fires.");
  return {
    recurrence,
    first: recurrence.type === "interval" ? new Date(recurrence.anchor) : first,
    end,
    notes,
  };
}
