/**
 * Words of a message with their places in it, so that a grammar can read the time from the
 * words and give back the rest of the text exactly as it was written. One pass, no
 * backtracking: linear in the length of the text.
 */
export interface Token {
  /** As written. */
  raw: string;
  /** Lower-case, NFKC, without trailing sentence punctuation ("Tomorrow," → "tomorrow"). */
  w: string;
  /** Offsets of `raw` in the text. */
  start: number;
  end: number;
  /** "," "&" "+" ";" stand alone as separators. */
  sep: boolean;
}

/** A word longer than this is never part of a time phrase (and is not normalised). */
const LONGEST_TIME_WORD = 40;

const SEPARATORS = new Set([",", ";", "&", "+"]);

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /[,;&+]|[^\s,;&+]+/gu;
  for (const m of text.matchAll(re)) {
    const raw = m[0];
    const start = m.index;
    const sep = SEPARATORS.has(raw);
    out.push({ raw, w: sep ? raw : normalizeWord(raw), start, end: start + raw.length, sep });
  }
  return out;
}

function normalizeWord(raw: string): string {
  if (raw.length > LONGEST_TIME_WORD) return "\u0000long";
  const lower = raw.normalize("NFKC").toLowerCase().replace(/[’‘]/g, "'");
  // "a.m." and "5p.m." keep their dots; other trailing punctuation is not part of the word.
  if (/^(?:\d{1,2}(?::\d{2})?)?[ap]\.m\.?$/.test(lower)) return lower.replace(/\./g, "");
  return lower.replace(/^[("“'«]+/, "").replace(/[.!?:)"”'»]+$/, "");
}
