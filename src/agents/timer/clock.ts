import { DateTime } from "luxon";

/**
 * `until <time> [name]`: a wall-clock time in the user's timezone, today, or tomorrow when
 * it has already passed (or when the user says "tomorrow"). Accepts 15:00, 9:05, 3pm,
 * 3:30 pm, 15h30, noon and midnight.
 */
export interface UntilResult {
  due: DateTime;
  rest: string;
}

const TIME =
  /^(?:(tomorrow|today)\s+)?(noon|midnight|(\d{1,2})(?:[:h.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?)(?=\s|$)\s*([\s\S]*)$/i;

export function parseUntil(text: string, now: Date, zone: string): UntilResult | null {
  const m = TIME.exec(text.trim());
  if (!m) return null;
  const [, day, whole, hourText, minuteText, meridiem, rest] = m;
  let hour: number;
  let minute = 0;
  const word = whole.toLowerCase();
  if (word === "noon") hour = 12;
  else if (word === "midnight") hour = 0;
  else {
    // A bare number ("until 3") is too ambiguous: ask for 3:00, 15:00 or 3pm.
    if (minuteText === undefined && meridiem === undefined) return null;
    hour = Number(hourText);
    minute = minuteText === undefined ? 0 : Number(minuteText);
    if (minute > 59) return null;
    if (meridiem) {
      if (hour < 1 || hour > 12) return null;
      const pm = meridiem.toLowerCase().startsWith("p");
      hour = (hour % 12) + (pm ? 12 : 0);
    } else if (hour > 23) return null;
  }
  const start = DateTime.fromJSDate(now).setZone(zone);
  if (!start.isValid) return null;
  let due = start.set({ hour, minute, second: 0, millisecond: 0 });
  if (day?.toLowerCase() === "tomorrow") due = due.plus({ days: 1 });
  else if (due <= start) due = due.plus({ days: 1 });
  // Across a DST gap luxon moves the time forward; keep what it gives.
  return { due, rest: rest.trim() };
}
