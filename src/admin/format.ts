/** "3 s", "4 min", "2 h 5 min", "3 d 4 h": how long ago or how far away, for operators. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A time as UTC, to the second: operators compare it with logs, which are in UTC. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Inline code that cannot be broken out of (backticks in ids or room names). */
export function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}
