/**
 * Edit distance over Unicode code points, shared by the agents (FAQ key near misses) and the
 * core (suggesting the environment variable an operator probably meant). Bounded by `max`, so a
 * long input costs its length times the other's, never more.
 */
/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions, so "wfii"
 * is one edit from "wifi"). Stops early and returns `max + 1` once the distance exceeds `max`.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  // A string has at least half as many code points as UTF-16 units: a length gap beyond `max`
  // is visible before copying either string.
  if (a.length / 2 - b.length > max || b.length / 2 - a.length > max) return max + 1;
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) > max) return max + 1;
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        d = Math.min(d, prevPrev[j - 2] + 1);
      }
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prevPrev = prev;
    prev = row;
  }
  return prev[t.length];
}
