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

export function inZone(instant: Date, zone: string): DateTime {
  return DateTime.fromJSDate(instant, { zone });
}

/**
 * The instant at which clocks in `zone` show `wall`. In the autumn overlap (02:30 happens twice
 * in Europe/Berlin on 2026-10-25) this is the first of the two; in the spring gap (02:30 does
 * not exist on 2026-03-29) it is the same time of day shifted by the gap (03:30), as luxon and
 * Temporal's "compatible" mode do. `shifted` says when the wall clock did not exist.
 */
export function wallClockToInstant(wall: WallClock, zone: string): Date {
  return wallClock(wall, zone).at;
}

export function wallClock(wall: WallClock, zone: string): { at: Date; shifted: boolean } {
  const dt = DateTime.fromObject({ ...wall, second: wall.second ?? 0, millisecond: 0 }, { zone });
  if (!dt.isValid) throw new RangeError(`Invalid wall clock ${JSON.stringify(wall)} in ${zone}`);
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
  return { at: best.toJSDate(), shifted: dt.hour !== wall.hour || dt.minute !== wall.minute };
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

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]{0,30}(?:\/[A-Za-z0-9_+-]{1,30}){0,3}$/;

/**
 * The canonical spelling of an IANA timezone name ("europe/berlin" → "Europe/Berlin"), or
 * undefined when it is not one. Fixed offsets such as "+02:00" are refused: they ignore DST.
 * The core validates every zone through this (the `tz` command and bridge.default_timezone).
 */
export function canonicalZone(name: string): string | undefined {
  const trimmed = name.trim();
  if (!ZONE_NAME.test(trimmed) || !IANAZone.isValidZone(trimmed)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: trimmed }).resolvedOptions().timeZone;
    // Intl spells a few zones its own way ("Etc/UTC" → "UTC"); keep what the database names.
    return IANAZone.isValidZone(resolved) ? resolved : trimmed;
  } catch {
    return undefined;
  }
}

/** "09:00" */
export function formatTimeOfDay(hour: number, minute: number): string {
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

/** "Sun 29 Mar 2026, 09:00" in `zone` (seconds only when they are not :00). */
export function formatInstant(at: Date, zone: string): string {
  const dt = inZone(at, zone);
  return dt.toFormat(dt.second ? "ccc d LLL yyyy, HH:mm:ss" : "ccc d LLL yyyy, HH:mm", { locale: "en-GB" });
}
