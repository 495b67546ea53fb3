import { UserInputError } from "../../../errors";
import type { Token } from "./tokens";
import { formatTimeOfDay } from "./zone";

/** Which half of the day words like "tonight" or "morning" put a bare hour in. */
export type DayHalf = "am" | "pm";

export interface TimeOfDayRead {
  hour: number;
  minute: number;
  end: number;
  /** Said when a bare hour was read by the daytime rule ("at 5" → 17:00). */
  note?: string;
  midnight?: boolean;
}

export const TIME_EXAMPLES = "`9:30`, `17:30`, `5pm` or `noon`";

/**
 * The one rule for hours written without am/pm and without a leading zero (`at 5`, `at 9:30`):
 * 7 to 11 are morning, 12 is noon, 1 to 6 are afternoon and evening, because that is when
 * people set reminders. A leading zero (`05:30`), an hour from 13 to 23 or 0, am/pm, or a word
 * like "morning" or "tonight" is read as written. The confirmation says when the rule applied.
 */
export function daytimeHour(hour: number, half?: DayHalf): number {
  if (half === "am") return hour === 12 ? 0 : hour;
  if (half === "pm") return hour === 12 ? 12 : hour + 12;
  if (hour === 12) return 12;
  return hour <= 6 ? hour + 12 : hour;
}

function invalid(said: string): never {
  throw new UserInputError(`“${said}” is not a time of day I can read. Try ${TIME_EXAMPLES}.`);
}

/**
 * A time of day at token `i`: "17:30", "9:30", "9am", "9:30 pm", "5 p.m.", "noon", "midnight",
 * "5 o'clock", and a bare hour ("9") only when `bare` (after "at"). `half` is the half of the
 * day named around it ("tonight at 8"). Undefined when there is none; throws for one that is
 * written like a time but is not one ("25:00", "13pm").
 */
export function readTimeOfDay(
  tokens: readonly Token[],
  i: number,
  opts: { bare?: boolean; half?: DayHalf } = {},
): TimeOfDayRead | undefined {
  const t = tokens[i];
  if (!t || t.sep) return undefined;
  const w = t.w;
  if (w === "noon" || w === "midday") return { hour: 12, minute: 0, end: i + 1 };
  if (w === "midnight") return { hour: 0, minute: 0, end: i + 1, midnight: true };
  const m = /^(\d{1,2})(?:[:.](\d{2}))?(am|pm)?$/.exec(w);
  if (!m) {
    if (
      /^\d{1,2}:\d{2}:\d{2}$/.test(w) ||
      /^\d{1,3}:\d{1,3}$/.test(w) ||
      /^\d{1,2}(?::\d{2})?[ap]$/.test(w)
    ) {
      invalid(t.raw);
    }
    return undefined;
  }
  // "9.30" only with am/pm: on its own it reads like a decimal number.
  if (w.includes(".") && !m[3]) return undefined;
  let end = i + 1;
  let meridiem = m[3] as DayHalf | undefined;
  const nextW = tokens[end]?.w;
  if (!meridiem && (nextW === "am" || nextW === "pm")) {
    meridiem = nextW;
    end++;
  }
  const hasMinutes = m[2] !== undefined;
  if (!meridiem && !hasMinutes && !opts.bare) return undefined;
  if (!hasMinutes && (tokens[end]?.w === "o'clock" || tokens[end]?.w === "oclock")) end++;
  const said = tokens
    .slice(i, end)
    .map((x) => x.raw)
    .join(" ");
  const hourText = m[1];
  let hour = Number(hourText);
  const minute = hasMinutes ? Number(m[2]) : 0;
  if (minute > 59) invalid(said);
  if (meridiem) {
    if (hour < 1 || hour > 12) invalid(said);
    return { hour: daytimeHour(hour, meridiem), minute, end };
  }
  if (hour > 23) invalid(said);
  const asWritten = hourText.startsWith("0") || hour === 0 || hour >= 13;
  if (asWritten) return { hour, minute, end };
  hour = daytimeHour(hour, opts.half);
  if (opts.half) return { hour, minute, end };
  const written = hasMinutes ? `${Number(hourText)}:${m[2]}` : String(Number(hourText));
  const other = hour >= 12 ? `${written}am for the morning` : `${written}pm for the evening`;
  const note = hour === 12 ? undefined : `“${said}” read as ${formatTimeOfDay(hour, minute)} (say ${other})`;
  return { hour, minute, end, note };
}
