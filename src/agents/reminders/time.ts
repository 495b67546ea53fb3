import { DateTime, IANAZone } from "luxon";

/** Wall-clock fields in some zone. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/**
 * The instant at which clocks in `zone` show `wall`. In the autumn overlap (02:30 happens twice
 * in Europe/Berlin on 2026-10-25) this is the first of the two; in the spring gap (02:30 does
 * not exist on 2026-03-29) it is the same time of day shifted by the gap (03:30), as luxon and
 * Temporal's "compatible" mode do.
 */
export function wallClockToInstant(wall: WallClock, zone: string): Date {
  const dt = DateTime.fromObject({ ...wall, second: wall.second ?? 0, millisecond: 0 }, { zone });
  if (!dt.isValid) throw new Error(`Invalid wall clock ${JSON.stringify(wall)} in ${zone}`);
  let best: DateTime = dt;
  for (const minutes of [30, 60, 120]) {
    const earlier: DateTime = dt.minus({ minutes });
    if (
      earlier.year === dt.year &&
      earlier.month === dt.month &&
      earlier.day === dt.day &&
      earlier.hour === dt.hour &&
      earlier.minute === dt.minute &&
      earlier.second === dt.second &&
      earlier.toMillis() < best.toMillis()
    ) {
      best = earlier;
    }
  }
  return best.toJSDate();
}

/** Offset from UTC in minutes of `zone` at `instant`. */
export function offsetMinutes(instant: Date, zone: string): number {
  return DateTime.fromJSDate(instant, { zone }).offset;
}

export function inZone(instant: Date, zone: string): DateTime {
  return DateTime.fromJSDate(instant, { zone });
}

const ZONE_NAME = /^(?:[A-Za-z][A-Za-z0-9_+-]*)(?:\/[A-Za-z0-9_+-]+)*$/;

/**
 * The canonical spelling of an IANA timezone name ("europe/berlin" → "Europe/Berlin"), or
 * undefined when it is not one. Fixed offsets such as "+02:00" are refused: they ignore DST.
 */
export function canonicalZone(name: string): string | undefined {
  const trimmed = name.trim();
  if (!ZONE_NAME.test(trimmed) || !IANAZone.isValidZone(trimmed)) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: trimmed }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export interface TimeOfDay {
  hour: number;
  minute: number;
  /** Characters used from the start of the text. */
  length: number;
}

/**
 * A time of day at the start of `text`: "9:30", "17:30", "9.30", "9am", "9:30 pm", "noon",
 * "midnight", and a bare hour ("9") when `allowBareHour` (after "at"). Undefined if none.
 */
export function parseTimeOfDay(text: string, allowBareHour = false): TimeOfDay | undefined {
  const lower = text.toLowerCase();
  const end = (n: number) => !/^[a-z0-9:]/.test(lower.slice(n));
  const word = /^(noon|midday|midnight)/.exec(lower);
  if (word && end(word[0].length)) {
    return { hour: word[1] === "midnight" ? 0 : 12, minute: 0, length: word[0].length };
  }
  const m = /^(\d{1,2})(?:[:.](\d{2}))?(?:\s*([ap])\.?m\.?)?/.exec(lower);
  if (!m || !end(m[0].length)) return undefined;
  let hour = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  const meridiem = m[3];
  if (m[2] === undefined && !meridiem && !allowBareHour) return undefined;
  if (minute > 59) return undefined;
  if (meridiem) {
    if (hour < 1 || hour > 12) return undefined;
    if (meridiem === "a" && hour === 12) hour = 0;
    else if (meridiem === "p" && hour !== 12) hour += 12;
  } else if (hour > 23) {
    return undefined;
  }
  return { hour, minute, length: m[0].replace(/\s+$/, "").length };
}

/** "09:00" */
export function formatTimeOfDay(hour: number, minute: number): string {
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

/**
 * The next instant after `after` at which the clock in `zone` shows hour:minute (today or a
 * later day), DST-correct.
 */
export function nextTimeOfDay(after: Date, zone: string, hour: number, minute: number): Date {
  let day = inZone(after, zone).startOf("day");
  for (let i = 0; i < 3; i++) {
    const candidate = wallClockToInstant(
      { year: day.year, month: day.month, day: day.day, hour, minute },
      zone,
    );
    if (candidate.getTime() > after.getTime()) return candidate;
    day = day.plus({ days: 1 });
  }
  throw new Error("unreachable: no time of day within three days");
}
