/** The targets of issue 11 ("lean and fast"), checked against one bench run. */
import type { BenchResults } from "./run";

interface Target {
  what: string;
  target: string;
  measured: string;
  holds: boolean | undefined;
  /** Shown for comparison, not a target (PGlite: kept only for existing data dirs). */
  info?: boolean;
}

const f = (v: number | undefined, digits = 0, unit = "") =>
  v === undefined || !Number.isFinite(v) ? "–" : `${v.toFixed(digits)}${unit}`;

function check(
  what: string,
  target: string,
  value: number | undefined,
  limit: number,
  shown: string,
): Target {
  return {
    what,
    target,
    measured: shown,
    holds: value === undefined || !Number.isFinite(value) ? undefined : value <= limit,
  };
}

interface Delay {
  max: number;
  median: number;
}
interface Precision {
  scenarios?: Record<string, { delayMs: Delay } | undefined>;
}

export function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  // The embedded default is SQLite (database.engine auto); results without an engine were PGlite's.
  const fp = r.figures.footprint?.table;
  const row = (v: string) => fp?.find((t) => t.variant === v && (t.engine ?? "pglite") === "sqlite");
  const idle = row("restart")?.rssMB;
  out.push(
    check("Idle RSS, `start` on the embedded default (SQLite)", "≤ 150 MB", idle, 150, f(idle, 1, " MB")),
  );
  const series = r.figures.scaling?.events;
  const last = series?.series.filter((s) => s.target === "scale-sqlite").at(-1);
  const idleScale = series?.idleRssMB?.["scale-sqlite"];
  const growth = last && idleScale !== undefined ? last.rssMB - idleScale : undefined;
  out.push(
    check(
      `RSS growth over ${last ? last.handled.toLocaleString("en-US") : "100,000"} handled events (embedded, SQLite)`,
      "≤ 30 MB",
      growth,
      30,
      `${f(growth, 1, " MB")} (${f(idleScale, 1)} → ${f(last?.rssMB, 1)} MB)`,
    ),
  );
  const fresh = row("fresh database")?.readyMs;
  const restart = row("restart")?.readyMs;
  out.push(
    check("Spawn → /ready, fresh embedded database (SQLite)", "≤ 2 s", fresh, 2000, f(fresh, 0, " ms")),
  );
  out.push(check("Spawn → /ready, restart", "≤ 1 s", restart, 1000, f(restart, 0, " ms")));
  const lat = r.figures.latency;
  out.push(
    check(
      "DM reply p50 vs the minimal appservice (same run)",
      "≤ 1.1×",
      lat?.vsMinimal?.p50,
      1.1,
      `${f(lat?.vsMinimal?.p50, 2, "×")} (${f(lat?.ours.median, 1)} vs ${f(lat?.minimal?.median, 1)} ms)`,
    ),
  );
  out.push(
    check(
      "DM reply p99 vs the minimal appservice (same run)",
      "≤ 1.3×",
      lat?.vsMinimal?.p99,
      1.3,
      `${f(lat?.vsMinimal?.p99, 2, "×")} (${f(lat?.ours.p99, 1)} vs ${f(lat?.minimal?.p99, 1)} ms)`,
    ),
  );
  const precision = r.external.reminderPrecision?.result as Precision | undefined;
  const burst = precision?.scenarios?.burst?.delayMs;
  const spread = precision?.scenarios?.spread?.delayMs;
  out.push(
    check(
      "30 reminders due at one instant, one room: max lateness",
      "≤ 0.7 s",
      burst?.max,
      700,
      f(burst?.max, 0, " ms"),
    ),
  );
  out.push(
    check(
      "200 due within a minute, 20 rooms: max lateness",
      "≤ 1 s",
      spread?.max,
      1000,
      f(spread?.max, 0, " ms"),
    ),
  );
  out.push(
    check(
      "200 due within a minute, 20 rooms: median lateness",
      "≤ 150 ms",
      spread?.median,
      150,
      f(spread?.median, 0, " ms"),
    ),
  );
  for (const c of r.figures.inbound?.cpuByKind ?? []) {
    const limit = c.kind === "inert" ? 5 : 25;
    const db =
      c.target === "sqlite"
        ? "embedded (SQLite)"
        : c.target === "pglite"
          ? "embedded (PGlite)"
          : "PostgreSQL";
    const row = check(
      `Inbound CPU per event, ${c.kind === "inert" ? "chat no agent acts on" : "commands"}, ${db}, vs bare library`,
      `≤ ${limit}×`,
      c.cpuRatioToBare,
      limit,
      `${f(c.cpuRatioToBare, 1, "×")} (${f(c.cpuUsPerEvent, 1)} vs ${f(c.bareCpuUsPerEvent, 1)} µs)`,
    );
    // The targets are for the two databases a new installation uses: the embedded default
    // (SQLite) and PostgreSQL. PGlite stays for data dirs that already hold it: shown, not judged.
    if (c.target === "pglite") row.info = true;
    out.push(row);
  }
  return out;
}

/** Markdown table: each target, what this run measured, and whether it holds. */
export function targetsTable(r: BenchResults): string {
  const rows = targets(r).map(
    (t) =>
      `| ${t.what} | ${t.target} | ${t.measured} | ${t.info ? `${t.holds ? "yes" : "no"} (not a target: PGlite is kept only for existing data dirs)` : t.holds === undefined ? "not measured" : t.holds ? "yes" : "**no**"} |`,
  );
  return ["| Target | Limit | This run | Holds |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
