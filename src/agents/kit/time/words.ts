import { UserInputError } from "../../../errors";

/** Units a duration is made of, largest first. */
export const UNITS = ["years", "months", "weeks", "days", "hours", "minutes", "seconds"] as const;
export type Unit = (typeof UNITS)[number];

const UNIT_WORDS: Record<string, Unit> = {};
for (const [unit, names] of [
  ["seconds", "s sec secs second seconds"],
  ["minutes", "m min mins minute minutes"],
  ["hours", "h hr hrs hour hours"],
  ["days", "d day days"],
  ["weeks", "w wk wks week weeks"],
  ["months", "mo mos month months"],
  ["years", "y yr yrs year years"],
] as const) {
  for (const name of names.split(" ")) UNIT_WORDS[name] = unit;
}

/** The unit a word names ("mins" → minutes), or undefined. `m` is always minutes, never months. */
export function unitWord(w: string): Unit | undefined {
  return Object.hasOwn(UNIT_WORDS, w) ? UNIT_WORDS[w] : undefined;
}

const SMALL = [
  "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen",
  "fifteen sixteen seventeen eighteen nineteen",
].join(" ");
const NUMBER_WORDS: Record<string, number> = {};
SMALL.split(" ").forEach((w, i) => (NUMBER_WORDS[w] = i));
for (const [w, n] of [
  ["twenty", 20],
  ["thirty", 30],
  ["forty", 40],
  ["fifty", 50],
  ["sixty", 60],
  ["seventy", 70],
  ["eighty", 80],
  ["ninety", 90],
] as const) {
  NUMBER_WORDS[w] = n;
}

/** Longest number we read: beyond this it is a typo, not a time (and would overflow dates). */
const MAX_DIGITS = 7;

/** "25", "1.5", "twenty", "twenty-five", or undefined. Throws for absurdly long numbers. */
export function numberWord(w: string): number | undefined {
  if (/^\d+(?:\.\d+)?$/.test(w)) {
    if (w.split(".")[0].length > MAX_DIGITS) {
      throw new UserInputError(
        `${w.length > 24 ? `${w.slice(0, 20)}…` : w} is too large a number for a time. Try something like \`in 10 minutes\` or \`in 2 days\`.`,
      );
    }
    return Number(w);
  }
  if (Object.hasOwn(NUMBER_WORDS, w)) return NUMBER_WORDS[w];
  const compound =
    /^(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(one|two|three|four|five|six|seven|eight|nine)$/.exec(
      w,
    );
  if (compound) return NUMBER_WORDS[compound[1]] + NUMBER_WORDS[compound[2]];
  return undefined;
}

export const WEEKDAYS: Record<string, number> = {};
for (const [day, names] of [
  [0, "sun sunday sundays"],
  [1, "mon monday mondays"],
  [2, "tue tues tuesday tuesdays"],
  [3, "wed weds wednesday wednesdays"],
  [4, "thu thur thurs thursday thursdays"],
  [5, "fri friday fridays"],
  [6, "sat saturday saturdays"],
] as const) {
  for (const name of names.split(" ")) WEEKDAYS[name] = day;
}

/** 0 = Sunday … 6 = Saturday, or undefined. */
export function weekdayWord(w: string): number | undefined {
  return Object.hasOwn(WEEKDAYS, w) ? WEEKDAYS[w] : undefined;
}

const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

/** 1 … 12 for "march", "mar", "sept", or undefined. */
export function monthWord(w: string): number | undefined {
  const i = MONTH_NAMES.indexOf(w);
  if (i >= 0) return i + 1;
  if (w === "sept") return 9;
  if (w.length === 3) {
    const j = MONTH_NAMES.findIndex((m) => m.startsWith(w));
    if (j >= 0) return j + 1;
  }
  return undefined;
}

/** "1st", "2nd", "15th", "the 3rd" → day of month 1 … 31, or undefined. */
export function ordinalWord(w: string): number | undefined {
  const m = /^(\d{1,2})(st|nd|rd|th)$/.exec(w);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= 31 ? n : undefined;
}

/** Zone abbreviations people append to times; we read times in the user's own zone only. */
export const ZONE_ABBREVIATIONS = new Set(
  "utc gmt est edt cst cdt mst mdt pst pdt akst akdt hst bst ist cet cest eet eest wet west msk jst kst aest aedt acst awst nzst nzdt".split(
    " ",
  ),
);
