/**
 * Fuzzy matching for FAQ keys and a small ranked search, written here so the agent has no
 * dependency for it. Distances are over Unicode code points, not UTF-16 units. Every input is
 * bounded (a query's length and words, a word's length for typos), so a hostile query costs
 * no more than an ordinary one.
 */
import { UserInputError, editDistance } from "../kit";

export { editDistance };

/** Longest search, and most words in it. */
export const MAX_SEARCH_CHARS = 300;
export const MAX_SEARCH_WORDS = 20;
/** Words longer than this only match exactly (no typo tolerance). */
const MAX_FUZZY_WORD = 48;

/** How many edits still count as a near miss for a key of this length. */
export function tolerance(key: string): number {
  const n = [...key].length;
  if (n <= 2) return 0;
  if (n <= 4) return 1;
  if (n <= 8) return 2;
  return 3;
}

export interface Suggestion {
  key: string;
  distance: number;
}

/**
 * Known keys close to `query` (both normalised), best first. A known key that starts with
 * the query (3+ characters) counts as one edit away, so "pass" finds "password".
 */
export function nearMisses(query: string, known: Iterable<string>, limit = 3): Suggestion[] {
  if (query.length > 4 * MAX_FUZZY_WORD) return [];
  const max = tolerance(query);
  const out: Suggestion[] = [];
  for (const key of new Set(known)) {
    if (key === query) continue;
    let distance = editDistance(query, key, max);
    if ([...query].length >= 3 && key.startsWith(query)) distance = Math.min(distance, 1);
    if (distance <= max) out.push({ key, distance });
  }
  out.sort((x, y) => x.distance - y.distance || x.key.localeCompare(y.key));
  return out.slice(0, limit);
}

/** Lower-case words of a text (letters and digits), for search. */
export function words(text: string): string[] {
  return (
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

export interface Searchable {
  key: string;
  displayKey: string;
  answer: string;
}

/**
 * Scores entries against the query words. Per word: a whole key word counts most, then a
 * key containing it, a key word one typo away, then the answer (more for repeated hits, a
 * little for word prefixes or typos). Entries matching more of the words rank first.
 */
export function searchScore(entry: Searchable, query: readonly string[]): number {
  if (query.length === 0) return 0;
  const keyWords = words(entry.displayKey);
  const answerWords = words(entry.answer);
  let total = 0;
  let matched = 0;
  for (const w of query) {
    const fuzzy = w.length <= MAX_FUZZY_WORD;
    let s = 0;
    if (keyWords.includes(w) || entry.key === w) s += 10;
    else if (entry.key.includes(w)) s += 6;
    else if (w.length >= 4 && fuzzy && keyWords.some((k) => editDistance(k, w, 1) <= 1)) s += 4;
    const hits = answerWords.filter((a) => a === w).length;
    if (hits > 0) s += 2 + Math.min(hits, 5) * 0.5;
    else if (w.length >= 3 && answerWords.some((a) => a.startsWith(w))) s += 1;
    else if (w.length >= 5 && fuzzy && answerWords.some((a) => editDistance(a, w, 1) <= 1)) s += 0.5;
    if (s > 0) matched++;
    total += s;
  }
  if (matched === 0) return 0;
  return total * (matched / query.length) + (matched === query.length ? 3 : 0);
}

/** The words of a search, refused with a clear message when there are too many. */
export function searchWords(text: string): string[] {
  const tooLong = `That search is too long: use at most ${MAX_SEARCH_WORDS} words (${MAX_SEARCH_CHARS} characters), e.g. \`!faq search printer paper\`.`;
  if (text.length > MAX_SEARCH_CHARS) throw new UserInputError(tooLong);
  const query = [...new Set(words(text))];
  if (query.length > MAX_SEARCH_WORDS) throw new UserInputError(tooLong);
  return query;
}

export function rankEntries<T extends Searchable>(entries: readonly T[], text: string, limit: number): T[] {
  const query = searchWords(text);
  return entries
    .map((entry) => ({ entry, score: searchScore(entry, query) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.entry.key.localeCompare(b.entry.key))
    .slice(0, limit)
    .map((x) => x.entry);
}
