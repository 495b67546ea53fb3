import * as chrono from "chrono-node";
import { readDuration } from "./duration";
import { readTimeOfDay } from "./timeOfDay";
import type { Token } from "./tokens";
import { ZONE_ABBREVIATIONS, monthWord, ordinalWord, unitWord, weekdayWord } from "./words";

const DAY_WORDS = new Set([
  "today",
  "tomorrow",
  "tonight",
  "tmrw",
  "tmr",
  "yesterday",
  "noon",
  "midnight",
  "midday",
  "o'clock",
  "oclock",
]);
const BEFORE_DAY = new Set(["on", "next", "this", "by", "until", "till", "every", "each"]);
const PARTS = new Set(["morning", "afternoon", "evening", "night"]);

const CHRONO_WORDS = 200;
const CHRONO_CHARS = 1500;

const isNumber = (w: string | undefined) => w !== undefined && /^\d/.test(w);

/**
 * Words in a reminder's text that look like a time the grammar did not read ("… tomorrow",
 * "at 5", "in 2 hours", "every monday"): the text and the time would then disagree, so the
 * agent asks instead of guessing. Durations alone ("stretch for 5 minutes") are text.
 * One pass with a fixed look-ahead: linear. Returns the words, or undefined.
 */
export function timeWordsIn(tokens: readonly Token[]): string | undefined {
  const said = (from: number, to: number) =>
    tokens
      .slice(from, to)
      .map((t) => t.raw)
      .join(" ");
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i].w;
    const next = tokens[i + 1]?.w;
    if (DAY_WORDS.has(w)) return tokens[i].raw;
    if (/^\d{1,2}:\d{2}(?:am|pm)?$|^\d{1,2}(?:am|pm)$|^\d{4}-\d{2}-\d{2}/.test(w)) return tokens[i].raw;
    if (isNumber(w) && (next === "am" || next === "pm")) return said(i, i + 2);
    if ((w === "at" || w === "@") && next !== undefined && readTimeOfDay(tokens, i + 1, { bare: true }))
      return said(i, i + 2);
    if (w === "in" && next !== undefined) {
      if (next === "the" && PARTS.has(tokens[i + 2]?.w ?? "")) return said(i, i + 3);
      const d = safeDuration(tokens, i + 1);
      if (d) return said(i, d);
    }
    if (BEFORE_DAY.has(w) && next !== undefined) {
      if (weekdayWord(next) !== undefined || ordinalWord(next) !== undefined || PARTS.has(next))
        return said(i, i + 2);
      if (next === "the" && ordinalWord(tokens[i + 2]?.w ?? "") !== undefined) return said(i, i + 3);
      if ((w === "every" || w === "each") && (unitWord(next) || isNumber(next) || next === "other"))
        return said(i, i + 2);
      if (monthWord(next) !== undefined && isNumber(tokens[i + 2]?.w)) return said(i, i + 3);
    }
    if (monthWord(w) !== undefined && w.length > 2 && /^\d{1,2}(?:st|nd|rd|th)?$/.test(next ?? ""))
      return said(i, i + 2);
    if (
      weekdayWord(w) !== undefined &&
      /^(?:[a-z]+day)$/.test(w) &&
      next !== undefined &&
      (PARTS.has(next) || readTimeOfDay(tokens, i + 1, {}))
    ) {
      return said(i, i + 2);
    }
    if (ZONE_ABBREVIATIONS.has(w) && i > 0 && readTimeOfDay(tokens, i - 1, {})) return said(i - 1, i + 1);
    const d = isNumber(w) || w === "a" || w === "an" ? safeDuration(tokens, i) : undefined;
    if (d !== undefined) {
      const after = tokens[d]?.w;
      if (after === "later" || after === "ago" || (after === "from" && tokens[d + 1]?.w === "now"))
        return said(i, d + 1);
    }
  }
  return chronoSecondOpinion(tokens);
}

function safeDuration(tokens: readonly Token[], i: number): number | undefined {
  try {
    return readDuration(tokens, i)?.end;
  } catch {
    return i + 1; // something that starts like a duration and is not one: ask
  }
}

/**
 * chrono-node reads many more casual forms than we accept ("the 5th of may", "next tues").
 * Where it finds a time that our rules did not, we ask too. Lone weekday or month names
 * ("sat down", "march on") and durations after "for" are words, not times.
 */
function chronoSecondOpinion(tokens: readonly Token[]): string | undefined {
  if (!tokens.length) return undefined;
  // chrono's cost grows with the text and it is only a second opinion: the first words suffice.
  const text = tokens
    .slice(0, CHRONO_WORDS)
    .map((t) => t.raw)
    .join(" ")
    .slice(0, CHRONO_CHARS);
  const ref = new Date(Date.UTC(2026, 0, 1, 12));
  for (const r of chrono.parse(text, ref)) {
    const found = r.text.trim().toLowerCase();
    if (/^for\s/.test(found) || /^within\s/.test(found)) continue;
    if (/^[a-z]+$/.test(found) && (weekdayWord(found) !== undefined || monthWord(found) !== undefined))
      continue;
    if (/^(?:now|sec|second|min|minute)$/.test(found)) continue;
    return r.text;
  }
  return undefined;
}
