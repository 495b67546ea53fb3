import { UserInputError } from "../../../errors";
import { DAY_PARTS, candidateDays, readDay, type DayRead } from "./days";
import { isWholeDays, readDuration, type Duration } from "./duration";
import { readTimeOfDay, type TimeOfDayRead } from "./timeOfDay";
import type { Token } from "./tokens";
import { formatTimeOfDay, inZone, wallClock } from "./zone";

export interface TimeContext {
  now: Date;
  /** The user's IANA zone: every wall-clock time is read in it. */
  zone: string;
}

export interface InstantRead {
  at: Date;
  end: number;
  /** What a person should know about how it was read ("at 5" → 17:00, a DST gap). */
  notes: string[];
  /** Set for "in …" and "… from now" (a duration from now). */
  duration?: Duration;
}

/** A day without a time means this hour. */
export const DEFAULT_HOUR = 9;

/** Adds a duration in `zone`: days and longer keep the wall-clock time, hours and less are exact. */
export function addDuration(from: Date, d: Duration, zone: string): Date {
  return inZone(from, zone).plus(d).toJSDate();
}

function said(tokens: readonly Token[], from: number, to: number): string {
  return tokens
    .slice(from, to)
    .map((t) => t.raw)
    .join(" ");
}

/** Places a day and a time of day on the calendar: the first such moment still ahead. */
function place(
  tokens: readonly Token[],
  start: number,
  day: DayRead | undefined,
  time: { hour: number; minute: number; midnight?: boolean } | undefined,
  end: number,
  ctx: TimeContext,
  notes: string[],
): InstantRead {
  const hour = time?.hour ?? day?.part?.hour ?? DEFAULT_HOUR;
  const minute = time?.minute ?? 0;
  if (!time && !day?.part) notes.push(`no time given: ${formatTimeOfDay(hour, minute)}`);
  const days = day
    ? candidateDays(day.spec, ctx.now, ctx.zone)
    : [0, 1].map((k) => inZone(ctx.now, ctx.zone).startOf("day").plus({ days: k }));
  if (day && time?.midnight && day.spec.kind !== "offset") {
    throw new UserInputError(
      "Midnight at the start or the end of that day? Say `at 00:00` on the day you mean, or `at 23:59`.",
    );
  }
  for (const d of days) {
    const { at, shifted } = wallClock({ year: d.year, month: d.month, day: d.day, hour, minute }, ctx.zone);
    if (at.getTime() > ctx.now.getTime()) {
      if (shifted) {
        notes.push(
          `${formatTimeOfDay(hour, minute)} does not exist that day in ${ctx.zone} (the clocks go forward), so ${inZone(at, ctx.zone).toFormat("HH:mm")}`,
        );
      }
      return { at, end, notes };
    }
  }
  throw new UserInputError(
    `“${said(tokens, start, end)}” has already passed. Give me a time in the future (e.g. \`tomorrow at 9\`).`,
  );
}

/** "tonight", "this evening", "in the morning" (+ an optional time): today's, or the next one. */
function readPartOfToday(tokens: readonly Token[], i: number): { read: DayRead; end: number } | undefined {
  const w = (k: number) => tokens[i + k]?.w;
  const part = (name: string | undefined) => (name ? DAY_PARTS[name] : undefined);
  if (w(0) === "tonight")
    return { read: { spec: { kind: "offset", days: 0 }, end: i + 1, part: DAY_PARTS.night }, end: i + 1 };
  if (w(0) === "this" && part(w(1)) && w(1) !== "night") {
    return { read: { spec: { kind: "offset", days: 0 }, end: i + 2, part: part(w(1)) }, end: i + 2 };
  }
  return undefined;
}

/** An optional "at <time>" (or a time written unmistakably: 17:30, 5pm, noon) at `i`. */
function readAt(tokens: readonly Token[], i: number, half?: "am" | "pm"): TimeOfDayRead | undefined {
  if (tokens[i]?.w === "at" || tokens[i]?.w === "@")
    return readTimeOfDay(tokens, i + 1, { bare: true, half });
  return readTimeOfDay(tokens, i, { bare: false, half });
}

/**
 * A moment at token `i`: "in 10 minutes", "in 2 days at 5pm", "10 minutes from now", "at noon",
 * "at 9 tomorrow", "tomorrow at 9", "tomorrow morning", "tonight at 8", "friday 14:00",
 * "next friday", "dec 24 at 18:00", "on the 15th at 9am", "2026-12-24 18:00". Undefined when
 * none starts here; UserInputError for one that starts but cannot be read exactly.
 */
export function readInstant(tokens: readonly Token[], i: number, ctx: TimeContext): InstantRead | undefined {
  const w = (k: number) => tokens[i + k]?.w;
  const notes: string[] = [];

  // "in 10 minutes", "in 1:30", "in 2 days at 5pm", "in the morning"
  if (w(0) === "in") {
    if (w(1) === "the" && w(2) && DAY_PARTS[w(2)!] && w(2) !== "night") {
      const part = DAY_PARTS[w(2)!];
      const time = readAt(tokens, i + 3, part.half);
      const today = place(
        tokens,
        i,
        undefined,
        time ?? { hour: part.hour, minute: 0 },
        time?.end ?? i + 3,
        ctx,
        notes,
      );
      if (time?.note) notes.push(time.note);
      return today;
    }
    const d = readDuration(tokens, i + 1, { clock: true });
    if (!d) return undefined;
    if (isWholeDays(d.duration)) {
      const time = readAt(tokens, d.end);
      if (time) {
        const day = inZone(addDuration(ctx.now, d.duration, ctx.zone), ctx.zone);
        const { at } = wallClock(
          { year: day.year, month: day.month, day: day.day, hour: time.hour, minute: time.minute },
          ctx.zone,
        );
        if (time.note) notes.push(time.note);
        return { at, end: time.end, notes };
      }
    }
    return { at: addDuration(ctx.now, d.duration, ctx.zone), end: d.end, notes, duration: d.duration };
  }

  // "10 minutes from now"
  const lead = readDuration(tokens, i);
  if (lead && tokens[lead.end]?.w === "from" && tokens[lead.end + 1]?.w === "now") {
    return {
      at: addDuration(ctx.now, lead.duration, ctx.zone),
      end: lead.end + 2,
      notes,
      duration: lead.duration,
    };
  }

  // ISO date and time in one word: "2026-12-24t18:00"
  const iso = /^(\d{4})-(\d{2})-(\d{2})t(\d{2}):(\d{2})$/.exec(w(0) ?? "");
  if (iso) {
    const day: DayRead = { spec: { kind: "date", year: +iso[1], month: +iso[2], day: +iso[3] }, end: i + 1 };
    if (+iso[4] > 23 || +iso[5] > 59)
      throw new UserInputError(`“${tokens[i].raw}” is not a time I can read.`);
    return place(tokens, i, day, { hour: +iso[4], minute: +iso[5] }, i + 1, ctx, notes);
  }

  // "tonight (at 8)", "this evening"
  const today = readPartOfToday(tokens, i);
  if (today) {
    const time = readAt(tokens, today.end, today.read.part!.half);
    if (time?.midnight) return place(tokens, i, undefined, time, time.end, ctx, notes);
    return place(tokens, i, today.read, time, time?.end ?? today.end, ctx, notes);
  }

  // A day first: "tomorrow at 9", "friday 14:00", "dec 24 at 18:00", "tomorrow morning"
  const day = readDay(tokens, i);
  if (day) {
    let pos = day.end;
    if (tokens[pos]?.w === ",") pos++;
    const time = readAt(tokens, pos, day.part?.half);
    if (time?.note) notes.push(time.note);
    return place(tokens, i, day, time, time?.end ?? day.end, ctx, notes);
  }

  // A time first: "at 5pm", "at 9 tomorrow", "9am on friday", "noon"
  const time = readAt(tokens, i);
  if (time) {
    let pos = time.end;
    if (tokens[pos]?.w === ",") pos++;
    const after = readDay(tokens, pos) ?? readPartOfToday(tokens, pos)?.read;
    if (time.note && !after?.part) notes.push(time.note);
    if (after?.part && !/^0|^1[3-9]|^2/.test(tokens[time.end - 1].w) && time.note) {
      // "at 8 tonight": the part of the day decides the half.
      const again = readAt(tokens, i, after.part.half)!;
      return place(tokens, i, after, again, after.end, ctx, notes);
    }
    if (time.midnight && !after) return place(tokens, i, undefined, time, time.end, ctx, notes);
    return place(tokens, i, after, time, after?.end ?? time.end, ctx, notes);
  }
  return undefined;
}
