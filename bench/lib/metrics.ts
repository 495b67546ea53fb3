/** Means of the bridge's Prometheus histograms over a window (from two /metrics scrapes). */

export type Scrape = Map<string, { sum: number; count: number }>;

/** Sums `<name>_sum` and `<name>_count` over all label sets of each histogram family. */
export function parseHistograms(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)_(sum|count)(?:\{[^}]*\})?\s+([-+\d.eE]+|NaN)$/.exec(line.trim());
    if (!m) continue;
    const entry = out.get(m[1]) ?? { sum: 0, count: 0 };
    entry[m[2] as "sum" | "count"] += Number(m[3]);
    out.set(m[1], entry);
  }
  return out;
}

export async function scrape(port: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return parseHistograms(await res.text());
}

/** Mean (in ms, for *_seconds histograms) and count of each histogram between two scrapes. */
export function windowMeans(
  before: Scrape,
  after: Scrape,
): Record<string, { count: number; meanMs: number }> {
  const out: Record<string, { count: number; meanMs: number }> = {};
  for (const [name, a] of after) {
    if (!name.endsWith("_seconds")) continue;
    const b = before.get(name) ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count <= 0) continue;
    out[name] = { count, meanMs: Math.round(((a.sum - b.sum) / count) * 1000 * 10) / 10 };
  }
  return out;
}
