import { formatInstant } from "./zone";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "2 hours 5 minutes", "45 seconds", "3 days 4 hours", "5 months": at most two units. */
export function humanizeMs(ms: number): string {
  const total = Math.round(Math.abs(ms) / 1000);
  if (total >= 2 * 365 * 86_400) return plural(Math.round(total / (365 * 86_400)), "year");
  if (total >= 60 * 86_400) return plural(Math.round(total / (30 * 86_400)), "month");
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  const out: string[] = [];
  let rest = total;
  for (const [size, word] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || out.length > 0) {
      if (n > 0) out.push(plural(n, word));
      rest -= n * size;
      if (out.length === 2 || (out.length === 1 && n === 0)) break;
    }
  }
  return out.length ? out.join(" ") : "0 seconds";
}

/** "in 10 minutes" or "10 minutes ago". */
export function relative(target: Date, now: Date): string {
  const ms = target.getTime() - now.getTime();
  if (Math.abs(ms) < 500) return "now";
  return ms > 0 ? `in ${humanizeMs(ms)}` : `${humanizeMs(ms)} ago`;
}

/** "**Sun 29 Mar 2026, 09:00** (Europe/Berlin), in 10 hours" */
export function formatWhen(at: Date, zone: string, now: Date): string {
  return `**${formatInstant(at, zone)}** (${zone}), ${relative(at, now)}`;
}

const SECOND = 1000;
const COMPACT: [number, string][] = [
  [7 * 86_400_000, "w"],
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "m"],
  [SECOND, "s"],
];

/** "1d 2h", "1h 30m", "4m 5s", "12s": the `parts` largest non-zero parts, rounded to seconds. */
export function formatCompactDuration(ms: number, parts = 2): string {
  let rest = Math.max(0, Math.round(ms / SECOND)) * SECOND;
  if (rest === 0) return "0s";
  const out: string[] = [];
  for (const [unit, label] of COMPACT) {
    if (rest >= unit) {
      out.push(`${Math.floor(rest / unit)}${label}`);
      rest %= unit;
    }
  }
  return out.slice(0, parts).join(" ");
}
