import { UserInputError } from "../../../errors";
import { trimEndOf } from "../limits";
import { timeWordsIn } from "./detect";
import { readDuration, type Duration, DURATION_EXAMPLES } from "./duration";
import { readInstant, type TimeContext } from "./instant";
import { readRecurrence } from "./recurring";
import type { Recurrence } from "./recurrence";
import { tokenize, type Token } from "./tokens";
import { ZONE_ABBREVIATIONS, unitWord } from "./words";

/** What a time phrase means. */
export type When =
  | { kind: "once"; at: Date; notes: string[]; duration?: Duration }
  | { kind: "recurring"; recurrence: Recurrence; first: Date; notes: string[] };

/** No time phrase is longer than this many words; the search for one at the end looks no further. */
const LONGEST_PHRASE = 24;

type Reader<T> = (tokens: readonly Token[], i: number) => { value: T; end: number } | undefined;

export interface Located<T> {
  value: T;
  /** The rest of the message (the reminder's text, the timer's name), as written, cleaned. */
  text: string;
  /** The text was in quotes: taken as it is, time words and all. */
  quoted: boolean;
  /** The time phrase as written. */
  phrase: string;
}

/** Words that may join the time and the text: "in 10 minutes to stretch", "about the meeting". */
const JOINERS = new Set(["to", "about", "that", "of", "for"]);

/** Words right next to a time phrase that mean the phrase went on and we did not read all of it. */
function continuesTime(t: Token | undefined, after: boolean): boolean {
  if (!t) return false;
  const w = t.w;
  if (/^\d/.test(w) || /^-\d/.test(w)) return true;
  if (unitWord(w) && /^[a-z]{2,}$/.test(w) && !["m", "s", "h", "d", "w", "y"].includes(w)) return true;
  if (["am", "pm", "o'clock", "oclock", "half", "quarter", "later", "ago"].includes(w)) return true;
  return ZONE_ABBREVIATIONS.has(w) && after;
}

function joined(tokens: readonly Token[], from: number, to: number): string {
  return tokens
    .slice(from, to)
    .map((t) => t.raw)
    .join(" ");
}

/**
 * Finds a time phrase at the start of the text or at its end ("in 10 minutes stretch",
 * "stretch in 10 minutes"), and the text around it. Refuses, rather than guesses, when words
 * next to the phrase look like more of it ("in 1h 30 tea") or the text holds another time.
 */
export function locate<T>(
  text: string,
  read: Reader<T>,
  examples: string,
  opts: { preferEnd?: boolean } = {},
): Located<T> | undefined {
  const tokens = tokenize(text);
  if (!tokens.length) return undefined;
  let found: { value: T; start: number; end: number } | undefined;
  let firstError: unknown;
  const attempt = (i: number, mustEnd: boolean) => {
    try {
      const r = read(tokens, i);
      if (r && r.end > i && (!mustEnd || r.end === tokens.length))
        return { value: r.value, start: i, end: r.end };
    } catch (err) {
      if (!(err instanceof UserInputError)) throw err;
      if (i === 0 || !mustEnd) throw err;
      firstError ??= err;
    }
    return undefined;
  };
  const atEnd = () => {
    for (let i = Math.max(1, tokens.length - LONGEST_PHRASE); i < tokens.length && !found; i++)
      found = attempt(i, true);
  };
  // "add <name> <length>": a name may itself look like a length (a timer id such as 25m3s).
  if (opts.preferEnd) atEnd();
  found ??= attempt(0, false);
  if (!found && !opts.preferEnd) atEnd();
  if (!found) {
    if (firstError) throw firstError;
    return undefined;
  }
  const phrase = joined(tokens, found.start, found.end);
  const leading = found.start === 0;
  const neighbour = leading ? tokens[found.end] : tokens[found.start - 1];
  const neighbourNext = leading ? tokens[found.end + 1] : undefined;
  // "in 1h30 and a bit tea": whatever follows, "and" right after a time means it went on.
  const andMore = neighbour?.w === "and" && (leading || continuesTime(neighbourNext, true));
  // With preferEnd the words before the length name something (a timer, maybe by its id).
  const judged = leading || !opts.preferEnd;
  if (judged && (continuesTime(neighbour, leading) || andMore)) {
    const extra = leading ? joined(tokens, found.end, found.end + (andMore ? 2 : 1)) : neighbour!.raw;
    if (ZONE_ABBREVIATIONS.has(neighbour!.w)) {
      throw new UserInputError(
        `I read times in your own timezone, so I cannot use “${neighbour!.raw}”. Say the time as it is for you, or set your zone with \`tz <Area/City>\`.`,
      );
    }
    throw new UserInputError(
      `I read “${phrase}” as the time, but “${extra}” ${leading ? "after" : "before"} it looks like part of a time too, so I am not sure what you mean. Write the time in one piece (e.g. ${examples}), or put the text in quotes.`,
    );
  }
  const rest = leading
    ? found.end < tokens.length
      ? text.slice(tokens[found.end].start)
      : ""
    : text.slice(0, tokens[found.start - 1].end);
  const cleaned = cleanText(rest, leading);
  return { value: found.value, phrase, ...cleaned };
}

/** Strips joiners and punctuation between the time and the text, and reads quotes. */
export function cleanText(raw: string, leading: boolean): { text: string; quoted: boolean } {
  let text = trimEndOf(raw.trim().replace(/^[,:;\u2013\u2014-]+\s*/, ""), ",:;\u2013\u2014-", true);
  const first = /^(\S+)\s+/.exec(text);
  if (first && JOINERS.has(first[1].toLowerCase())) text = text.slice(first[0].length);
  if (!leading) {
    // "call bob at" + "5pm": a preposition left before the time belongs to it.
    let cut = text.length;
    while (cut > 0 && !/\s/.test(text[cut - 1])) cut--;
    if (cut > 0 && /^(?:to|at|on)$/i.test(text.slice(cut))) text = text.slice(0, cut).trimEnd();
  }
  const quoted = /^["“„«]([\s\S]*)["”»]$/.exec(text.trim());
  if (quoted) return { text: quoted[1].trim(), quoted: true };
  return { text: text.trim(), quoted: false };
}

/**
 * Refuses text that holds a time the grammar did not read, with the way out: quotes.
 */
export function checkNoTimeInText(located: Located<unknown>, example: string): void {
  if (located.quoted || located.text === "") return;
  const words = timeWordsIn(tokenize(located.text));
  if (words) {
    throw new UserInputError(
      `I read “${located.phrase}” as the time, but “${words}” in the text looks like a time too, so I am not sure which you mean. ` +
        `If “${words}” is part of the text, put the text in quotes, e.g. ${example}.`,
    );
  }
}

/** A one-off or repeating time ("in 10 minutes", "every day at 7"). */
export function whenReader(ctx: TimeContext, opts: { recurring: boolean }): Reader<When> {
  return (tokens, i) => {
    if (opts.recurring) {
      const rec = readRecurrence(tokens, i, ctx);
      if (rec)
        return {
          value: { kind: "recurring", recurrence: rec.recurrence, first: rec.first, notes: rec.notes },
          end: rec.end,
        };
    }
    const at = readInstant(tokens, i, ctx);
    return at
      ? { value: { kind: "once", at: at.at, notes: at.notes, duration: at.duration }, end: at.end }
      : undefined;
  };
}

/** A length of time, with an optional "in" or "for" before it ("5 min", "in 5 minutes", "for 1:30"). */
export const durationReader: Reader<Duration> = (tokens, i) => {
  const lead = tokens[i]?.w === "in" || tokens[i]?.w === "for" ? 1 : 0;
  const d = readDuration(tokens, i + lead, { clock: true });
  return d ? { value: d.duration, end: d.end } : undefined;
};

export { DURATION_EXAMPLES };
