import type { DateTime } from "luxon";
import { UserInputError } from "../../../errors";
import type { DayHalf } from "./timeOfDay";
import type { Token } from "./tokens";
import { monthWord, ordinalWord, weekdayWord } from "./words";
import { inZone } from "./zone";

/** A day as said, before it is placed on the calendar (that needs the time of day too). */
export type DaySpec =
  | { kind: "offset"; days: number }
  | { kind: "weekday"; weekday: number; strictlyAfterToday: boolean }
  | { kind: "date"; month: number; day: number; year?: number }
  | { kind: "dayOfMonth"; day: number };

/** "morning" and friends: which half of the day, and the hour when no time is given. */
export const DAY_PARTS: Record<string, { half: DayHalf; hour: number }> = {
  morning: { half: "am", hour: 9 },
  afternoon: { half: "pm", hour: 15 },
  evening: { half: "pm", hour: 18 },
  night: { half: "pm", hour: 20 },
};

export interface DayRead {
  spec: DaySpec;
  end: number;
  /** "tomorrow morning": the part of the day named with it. */
  part?: { half: DayHalf; hour: number };
}

const FULL_WEEKDAY = /^(?:mon|tues|wednes|thurs|fri|satur|sun)day$/;

function year(tokens: readonly Token[], i: number): number | undefined {
  const w = tokens[i]?.w;
  return w && /^\d{4}$/.test(w) ? Number(w) : undefined;
}

/** "24", "24th" → 24 */
function dayNumber(w: string | undefined): number | undefined {
  if (!w) return undefined;
  const ord = ordinalWord(w);
  if (ord) return ord;
  if (/^\d{1,2}$/.test(w)) {
    const n = Number(w);
    return n >= 1 && n <= 31 ? n : undefined;
  }
  return undefined;
}

/** A calendar date at `i`: "dec 24", "december 24th 2026", "24 dec", "the 3rd of march", ISO "2026-12-24". */
function readDate(tokens: readonly Token[], i: number): DayRead | undefined {
  const w = (k: number) => tokens[i + k]?.w;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(w(0) ?? "");
  if (iso) return { spec: { kind: "date", year: +iso[1], month: +iso[2], day: +iso[3] }, end: i + 1 };
  if (/^\d{1,2}\/\d{1,2}(?:\/\d{2,4})?$/.test(w(0) ?? "")) {
    throw new UserInputError(
      `“${tokens[i].raw}” could be day/month or month/day. Write the month as a word (\`dec 24\`) or use \`2026-12-24\`.`,
    );
  }
  const month = monthWord(w(0) ?? "");
  if (month !== undefined) {
    // "may" and "march" are words too: a month needs its day right after it.
    const day = dayNumber(w(1));
    if (day === undefined) return undefined;
    let end = i + 2;
    if (tokens[end]?.w === ",") end++;
    const y = year(tokens, end);
    if (y !== undefined) return { spec: { kind: "date", month, day, year: y }, end: end + 1 };
    return { spec: { kind: "date", month, day }, end: i + 2 };
  }
  const the = w(0) === "the" ? 1 : 0;
  const day = dayNumber(w(the));
  if (day === undefined) return undefined;
  const of = w(the + 1) === "of" ? 1 : 0;
  const m2 = monthWord(w(the + 1 + of) ?? "");
  if (m2 !== undefined) {
    const end = i + the + of + 2;
    const y = year(tokens, end);
    return y !== undefined
      ? { spec: { kind: "date", month: m2, day, year: y }, end: end + 1 }
      : { spec: { kind: "date", month: m2, day }, end };
  }
  // "the 15th" (an ordinal, with or without "the"): that day of the month.
  if (ordinalWord(w(the) ?? "") !== undefined) return { spec: { kind: "dayOfMonth", day }, end: i + the + 1 };
  return undefined;
}

/**
 * A day at token `i`: today, tomorrow, the day after tomorrow, a weekday ("friday", "on fri",
 * "this friday", "next friday"), a date, "the 15th", optionally followed by a part of the day
 * ("tomorrow morning"). Undefined when none starts here.
 */
export function readDay(tokens: readonly Token[], i: number): DayRead | undefined {
  const w = (k: number) => tokens[i + k]?.w;
  let pos = i;
  if (w(0) === "on") pos++;
  const at = (k: number) => tokens[pos + k]?.w;
  let read: DayRead | undefined;
  if (at(0) === "today") read = { spec: { kind: "offset", days: 0 }, end: pos + 1 };
  else if (at(0) === "tomorrow" || at(0) === "tmrw" || at(0) === "tmr" || at(0) === "tomorow")
    read = { spec: { kind: "offset", days: 1 }, end: pos + 1 };
  else if (at(0) === "the" && at(1) === "day" && at(2) === "after" && at(3) === "tomorrow")
    read = { spec: { kind: "offset", days: 2 }, end: pos + 4 };
  else if (at(0) === "day" && at(1) === "after" && at(2) === "tomorrow")
    read = { spec: { kind: "offset", days: 2 }, end: pos + 3 };
  else if ((at(0) === "next" || at(0) === "this") && weekdayWord(at(1) ?? "") !== undefined) {
    read = {
      spec: { kind: "weekday", weekday: weekdayWord(at(1)!)!, strictlyAfterToday: at(0) === "next" },
      end: pos + 2,
    };
  } else if (
    (at(0) === "next" || at(0) === "this") &&
    ["week", "month", "year", "weekend"].includes(at(1) ?? "")
  ) {
    throw new UserInputError(
      `“${at(0)} ${at(1)}” is not one day. Name the day: e.g. \`next monday at 9\`, \`on the 1st\` or \`dec 24\`.`,
    );
  } else if (weekdayWord(at(0) ?? "") !== undefined) {
    // Abbreviations ("sat", "sun", "wed") are words too: bare, only the full name is a day.
    if (pos > i || FULL_WEEKDAY.test(at(0)!)) {
      read = {
        spec: { kind: "weekday", weekday: weekdayWord(at(0)!)!, strictlyAfterToday: false },
        end: pos + 1,
      };
    } else if (/^\d|^noon$|^midnight$/.test(at(1) ?? "") || Object.hasOwn(DAY_PARTS, at(1) ?? "")) {
      read = {
        spec: { kind: "weekday", weekday: weekdayWord(at(0)!)!, strictlyAfterToday: false },
        end: pos + 1,
      };
    }
  } else {
    read = readDate(tokens, pos);
  }
  if (!read) return undefined;
  const part = tokens[read.end]?.w;
  if (part && Object.hasOwn(DAY_PARTS, part)) return { ...read, end: read.end + 1, part: DAY_PARTS[part] };
  return read;
}

/** The calendar days a spec may mean, soonest first (the caller picks the first still ahead). */
export function candidateDays(spec: DaySpec, now: Date, zone: string): DateTime[] {
  const today = inZone(now, zone).startOf("day");
  switch (spec.kind) {
    case "offset":
      return [today.plus({ days: spec.days })];
    case "weekday": {
      const out: DateTime[] = [];
      for (let k = spec.strictlyAfterToday ? 1 : 0; k <= 8 && out.length < 2; k++) {
        const d = today.plus({ days: k });
        if (d.weekday % 7 === spec.weekday) out.push(d);
      }
      return out;
    }
    case "date": {
      if (spec.month < 1 || spec.month > 12 || spec.day < 1 || spec.day > 31) {
        throw new UserInputError(`That date does not exist. Write dates like \`dec 24\` or \`2026-12-24\`.`);
      }
      const years = spec.year !== undefined ? [spec.year] : [today.year, today.year + 1, today.year + 2];
      const out = years
        .map((y) => today.set({ year: y, month: spec.month, day: spec.day }))
        .filter((d) => d.month === spec.month && d.day === spec.day);
      if (!out.length) {
        throw new UserInputError(
          `There is no ${spec.day} ${monthName(spec.month)}${spec.year ? ` ${spec.year}` : ""}.`,
        );
      }
      return out;
    }
    case "dayOfMonth": {
      const out: DateTime[] = [];
      for (let k = 0; k < 14 && out.length < 2; k++) {
        const d = today.startOf("month").plus({ months: k });
        if (d.daysInMonth! >= spec.day) out.push(d.set({ day: spec.day }));
      }
      return out;
    }
  }
}

export function monthName(month: number): string {
  return [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
  ][month - 1];
}
