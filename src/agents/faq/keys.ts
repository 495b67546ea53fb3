import { trimEndOf } from "../kit";

/**
 * FAQ keys: how users type them and how we store them. Keys are compared after NFKC
 * normalisation, lower-casing and removing all whitespace, so "Wi Fi", "wifi" and "WIFI"
 * are one key; the spelling used when the entry was saved is kept for display.
 */

/** Sub-command words: a key cannot be one of these, or `!faq <key>` would be ambiguous. */
export const RESERVED_WORDS = new Set([
  "set",
  "add",
  "get",
  "list",
  "search",
  "find",
  "delete",
  "del",
  "remove",
  "alias",
  "history",
  "revert",
  "shortcut",
  "export",
  "import",
  "help",
]);

/** Letters, digits and a few joiners; no Markdown syntax, so keys render as typed. */
const KEY_SHAPE = /^[\p{L}\p{N}][\p{L}\p{N}\p{M} _.\-+#&'/]*$/u;

/** The form a key is stored and compared in. */
/** Longer than any key may be (max_key_length ≤ 200): not normalised in full. */
const LONGEST_KEY_INPUT = 1024;

export function normalizeKey(input: string): string {
  const raw = input.slice(0, LONGEST_KEY_INPUT);
  return trimEndOf(raw.normalize("NFKC").toLowerCase().replace(/\s+/g, "").replace(/^\?+/, ""), "?!.,:;");
}

/** The key as the user wrote it, tidied: single spaces, no shortcut "?" or trailing punctuation. */
export function displayKey(input: string): string {
  const raw = input.slice(0, LONGEST_KEY_INPUT);
  return trimEndOf(raw.normalize("NFKC").trim().replace(/\s+/g, " ").replace(/^\?+/, ""), "?!.,:;");
}

/** Why a key (or alias) cannot be saved, or undefined when it can. */
export function keyProblem(raw: string, maxLength: number): string | undefined {
  if (raw.length > LONGEST_KEY_INPUT) {
    return `The key is too long (${raw.length} characters; the limit is ${maxLength}).`;
  }
  const shown = displayKey(raw);
  const key = normalizeKey(raw);
  if (key === "") return "The key is empty.";
  if ([...shown].length > maxLength) {
    return `The key is too long (${[...shown].length} characters; the limit is ${maxLength}).`;
  }
  if (!KEY_SHAPE.test(shown)) {
    return "A key may contain letters, digits, spaces and `- _ . + # & ' /`, and must start with a letter or digit.";
  }
  if (RESERVED_WORDS.has(key)) return `\`${key}\` is a command word; please choose another key.`;
  return undefined;
}

/**
 * Splits "<key> <rest…>": the key is the first word, or a "quoted phrase" for keys with
 * spaces. The rest keeps its line breaks (it may be a Markdown answer).
 */
export function splitKey(text: string): { key: string; rest: string } | undefined {
  const trimmed = text.replace(/^\s+/, "");
  if (trimmed === "") return undefined;
  const quoted = /^(["“”'‘’])(.+?)["“”'‘’](?=\s|$)/su.exec(trimmed);
  if (quoted) return { key: quoted[2], rest: trimmed.slice(quoted[0].length).trim() };
  const word = /^\S+/u.exec(trimmed)![0];
  return { key: word, rest: trimmed.slice(word.length).trim() };
}

/** Pulls `--global` (or `-g`) flags off the front of the arguments. */
export function takeGlobalFlag(text: string): { global: boolean; rest: string } {
  let rest = text.trim();
  let global = false;
  for (;;) {
    const m = /^(?:--global|-g)(?=\s|$)\s*/i.exec(rest);
    if (!m) break;
    global = true;
    rest = rest.slice(m[0].length);
  }
  return { global, rest };
}
