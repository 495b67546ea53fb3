/** Renders bench results as Markdown and keeps the generated part of BENCHMARKS.md current. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { BenchResults } from "./run";
import { targetsTable } from "./targets";

export const START =
  "<!-- bench:generated:start (written by `npm run bench`; edit around it, not inside) -->";
export const END = "<!-- bench:generated:end -->";

const n = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v)
    ? "–"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const x = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? "–" : `${v.toFixed(v < 1 ? 3 : v < 10 ? 2 : 1)}×`;
const signed = (v: number): string => `${v >= 0 ? "+" : ""}${n(v, 1)}`;

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

const dbName = (target: string) =>
  target.includes("sqlite")
    ? "embedded (SQLite)"
    : target.includes("pglite")
      ? "embedded (PGlite)"
      : target.includes("postgres")
        ? "PostgreSQL"
        : target;

/** The summary table (also what a closing note copies). */
export function summaryTable(r: BenchResults): string {
  const rows: string[][] = [];
  const inbound = r.figures.inbound;
  if (inbound) {
    for (const share of [0, 0.5]) {
      const bare = inbound.table.find((t) => t.target === "bare" && t.replayShare === share);
      for (const target of ["sqlite", "pglite", "postgres"]) {
        const row = inbound.table.find((t) => t.target === target && t.replayShare === share);
        if (!row) continue;
        rows.push([
          `Inbound, ${dbName(target)}, ${share * 100}% replays`,
          `${n(row.eventsPerSecond)} events/s`,
          `bare \`Bridge\`: ${n(bare?.eventsPerSecond)} events/s`,
          x(row.ratioToBare),
        ]);
      }
    }
  }
  const out0 = r.figures.outbound;
  const ours0 =
    inbound?.table.find((t) => t.target === "sqlite" && t.replayShare === 0) ??
    inbound?.table.find((t) => t.target === "pglite" && t.replayShare === 0);
  if (ours0 && out0?.table.length) {
    // What the homeserver can produce: the fastest it accepted messages in this run.
    const best = out0.table.reduce((a, b) => (b.messagesPerSecond > a.messagesPerSecond ? b : a));
    rows.push([
      "Inbound capacity vs what this Synapse produces",
      `${n(ours0.eventsPerSecond)} events/s (embedded, 0% replays)`,
      `Synapse accepted at most ${n(best.messagesPerSecond, 1)} msg/s (${best.mode}, ${best.rooms} rooms)`,
      x(ours0.eventsPerSecond / best.messagesPerSecond),
    ]);
  }
  const lat = r.figures.latency;
  if (lat) {
    rows.push([
      `End-to-end latency p50 / p95 / p99 (${lat.profile.roundTrips} round trips)`,
      `${n(lat.ours.median)} / ${n(lat.ours.p95)} / ${n(lat.ours.p99)} ms`,
      `human → human: ${n(lat.floor.median)} / ${n(lat.floor.p95)} / ${n(lat.floor.p99)} ms`,
      `${signed(lat.added.p50)} / ${signed(lat.added.p95)} / ${signed(lat.added.p99)} ms`,
    ]);
  }
  const out = r.figures.outbound;
  if (out) {
    for (const rooms of out.profile.roomCounts) {
      const direct = out.table.find((t) => t.rooms === rooms && t.mode === "direct-8");
      for (const mode of ["queue-sqlite", "queue-pglite", "queue-postgres"] as const) {
        const row = out.table.find((t) => t.rooms === rooms && t.mode === mode);
        if (!row) continue;
        rows.push([
          `Outbound, ${rooms} room${rooms === 1 ? "" : "s"}, durable queue on ${dbName(mode)}`,
          `${n(row.messagesPerSecond, 1)} msg/s`,
          `direct sends: ${n(direct?.messagesPerSecond, 1)} msg/s`,
          x(row.ratioToDirect),
        ]);
      }
    }
  }
  const fp = r.figures.footprint;
  if (fp) {
    // Results from before the engine column were PGlite's.
    for (const engine of [...new Set(fp.table.map((t) => t.engine ?? "pglite"))]) {
      const get = (v: string) => fp.table.find((t) => t.variant === v && (t.engine ?? "pglite") === engine);
      rows.push([
        `Start to ready (fresh database / restart), ${dbName(engine)}`,
        `${n(get("fresh database")?.readyMs)} / ${n(get("restart")?.readyMs)} ms`,
        "",
        "",
      ]);
      rows.push([
        `Resident memory idle / with 10k scheduled items, ${dbName(engine)}`,
        `${n(get("restart")?.rssMB, 1)} / ${n(get("restart, 10k scheduled")?.rssMB, 1)} MB`,
        "",
        "",
      ]);
    }
  }
  const sc = r.figures.scaling;
  if (sc) {
    for (const target of [...new Set(sc.events.series.map((s) => s.target))]) {
      const series = sc.events.series.filter((s) => s.target === target);
      const first = series[0];
      const last = series[series.length - 1];
      rows.push([
        `Memory after ${n(last.handled)} handled events, ${dbName(target)}`,
        `RSS ${n(last.rssMB, 1)} MB (heap ${n(last.heapUsedMB, 1)} MB)`,
        `idle ${n(sc.events.idleRssMB[target], 1)} MB; after ${n(first.handled)}: ${n(first.rssMB, 1)} MB`,
        growthNote(series),
      ]);
      rows.push([
        `Inbound cost per event at ${n(first.handled)} → ${n(last.handled)} handled, ${dbName(target)}`,
        `${n(first.cpuUsPerEvent)} → ${n(last.cpuUsPerEvent)} µs CPU`,
        `${n(first.eventsPerSecond)} → ${n(last.eventsPerSecond)} events/s`,
        x(last.cpuUsPerEvent / first.cpuUsPerEvent),
      ]);
    }
    const byRooms = sc.rooms.table;
    for (const target of [...new Set(byRooms.map((t) => t.target))]) {
      const rowsOf = byRooms.filter((t) => t.target === target);
      const a = rowsOf[0];
      const b = rowsOf[rowsOf.length - 1];
      if (!a || !b) continue;
      rows.push([
        `Inbound cost per event, ${n(a.rooms)} → ${n(b.rooms)} rooms, ${dbName(target)}`,
        `${n(a.cpuUsPerEvent)} → ${n(b.cpuUsPerEvent)} µs CPU`,
        `${n(a.eventsPerSecond)} → ${n(b.eventsPerSecond)} events/s`,
        x(b.cpuUsPerEvent / a.cpuUsPerEvent),
      ]);
    }
  }
  const shapes = r.figures.shapes;
  if (shapes) {
    for (const database of [...new Set(shapes.table.map((t) => t.database))]) {
      const now = shapes.table.find((t) => t.database === database && t.shape === "per-event");
      const batched = shapes.table.find((t) => t.database === database && t.shape === "batched");
      rows.push([
        `Proposed fix, database work per event, ${database} (batches of ${shapes.profile.batch})`,
        `batched: ${n(batched?.msPerEvent, 2)} ms/event`,
        `today: ${n(now?.msPerEvent, 2)} ms/event`,
        x(batched?.ratio),
      ]);
    }
  }
  return table(["Figure", "Ours", "Reference (same run)", "Ours vs reference"], rows);
}

/** Growth over the first and the second half of the run (it levels off when the second is small). */
function growthNote(series: { handled: number; rssMB: number }[]): string {
  if (series.length < 3) return "";
  const first = series[0];
  const mid = series[Math.floor(series.length / 2)];
  const last = series[series.length - 1];
  return (
    `${signed(mid.rssMB - first.rssMB)} MB from ${n(first.handled)} to ${n(mid.handled)}, ` +
    `${signed(last.rssMB - mid.rssMB)} MB from there to ${n(last.handled)}`
  );
}

function machineTable(r: BenchResults): string {
  const m = r.machine;
  return table(
    [
      "CPUs",
      "CPU",
      "Memory",
      "Node",
      "Synapse",
      "PostgreSQL",
      "PGlite",
      "matrix-appservice-bridge",
      "Load at start",
    ],
    [
      [
        m.cpus,
        m.cpuModel,
        `${m.memoryGB} GB`,
        m.node,
        m.synapse,
        m.postgres,
        m.pglite,
        m.matrixAppserviceBridge,
        m.loadAverageAtStart,
      ],
    ],
  );
}

function details(r: BenchResults): string {
  const parts: string[] = [];
  const inbound = r.figures.inbound;
  if (inbound) {
    parts.push(
      "#### Inbound pipeline",
      "",
      `${inbound.profile.reps} repetitions of ${n(inbound.profile.txns * 100)} events per database and replay share, ` +
        `over ${inbound.profile.rooms} DM rooms; medians. CPU is the bridge process's own (PostgreSQL's server is another process).`,
      "",
      table(
        ["Bridge", "Replays", "Events/s (until handled)", "Events/s acknowledged", "CPU µs/event", "vs bare"],
        inbound.table.map((t) => [
          t.target === "bare" ? "bare `Bridge`, no-op `onEvent`" : `ours, ${dbName(t.target)}`,
          `${t.replayShare * 100}%`,
          n(t.eventsPerSecond),
          n(t.ackEventsPerSecond),
          n(t.cpuUsPerEvent),
          t.ratioToBare === undefined ? "" : x(t.ratioToBare),
        ]),
      ),
      "",
      "Resident memory of each bridge process after the warm-up → at the end: " +
        Object.entries(inbound.rssMB ?? {})
          .map(
            ([name, m]) =>
              `${name === "bare" ? "bare `Bridge`" : dbName(name)} ${n(m.afterWarmup)} → ${n(m.atEnd)} MB`,
          )
          .join("; ") +
        ".",
    );
  }
  const lat = r.figures.latency;
  if (lat) {
    parts.push(
      "",
      "#### End-to-end latency (ms)",
      "",
      table(
        ["Path", "p50", "p95", "p99", "min", "max"],
        [
          [
            "human → echo agent → human (DM)",
            lat.ours.median,
            lat.ours.p95,
            lat.ours.p99,
            lat.ours.min,
            lat.ours.max,
          ],
          [
            "human A → human B (floor)",
            lat.floor.median,
            lat.floor.p95,
            lat.floor.p99,
            lat.floor.min,
            lat.floor.max,
          ],
          [
            "added by the bridge",
            signed(lat.added.p50),
            signed(lat.added.p95),
            signed(lat.added.p99),
            "",
            "",
          ],
        ].map((row) => row.map((c) => (typeof c === "number" ? n(c, 1) : c))),
      ),
    );
    const means = Object.entries(lat.bridgeMeans ?? {}).filter(([name]) => !name.includes("_gc_"));
    if (means.length) {
      parts.push(
        "",
        "Inside the bridge during those round trips (means from its `/metrics` histograms; the events " +
          "include our own replies, which the homeserver pushes back to us):",
        "",
        table(
          ["Histogram", "Observations", "Mean (ms)"],
          means.map(([name, m]) => [`\`${name}\``, n(m.count), n(m.meanMs, 1)]),
        ),
      );
    }
  }
  const out = r.figures.outbound;
  if (out) {
    parts.push(
      "",
      "#### Outbound throughput",
      "",
      `${out.profile.messages} messages per run, ${out.profile.reps} repetitions; medians. ` +
        `Every mode sends from the same device${out.device ? "" : " (none: the homeserver refused one)"}.`,
      "",
      table(
        ["Rooms", "Mode", "Messages/s", "vs direct (8 rooms at a time)"],
        out.table.map((t) => [
          t.rooms,
          t.mode,
          n(t.messagesPerSecond, 1),
          t.ratioToDirect === undefined ? "" : x(t.ratioToDirect),
        ]),
      ),
    );
  }
  const fp = r.figures.footprint;
  if (fp) {
    parts.push(
      "",
      "#### Footprint (`matrix-agent-bridge start`, embedded database)",
      "",
      `Scheduled items belong to agent \`${fp.scheduledAgent.id}\`` +
        (fp.scheduledAgent.schedules
          ? " (it handles scheduled items)."
          : " (no registered agent schedules items)."),
      "",
      table(
        ["Engine", "Start", "Ready after (ms)", "RSS idle (MB)"],
        fp.table.map((t) => [dbName(t.engine ?? "pglite"), t.variant, n(t.readyMs), n(t.rssMB, 1)]),
      ),
    );
  }
  const sc = r.figures.scaling;
  if (sc) {
    parts.push(
      "",
      "#### Scaling with handled events (one long run of a fresh bridge process, no-op agent)",
      "",
      table(
        [
          "Bridge",
          "Handled",
          "Rooms (last stretch)",
          "Events/s (last stretch)",
          "CPU µs/event (last stretch)",
          "RSS (MB)",
          "Heap after GC (MB)",
        ],
        sc.events.series.map((s) => [
          dbName(s.target),
          n(s.handled),
          n(s.rooms),
          n(s.eventsPerSecond),
          n(s.cpuUsPerEvent),
          n(s.rssMB, 1),
          n(s.heapUsedMB, 1),
        ]),
      ),
      "",
      "#### Scaling with rooms (stretches of the same run, medians of three per room count)",
      "",
      table(
        ["Bridge", "Rooms", "Events/s", "CPU µs/event", "RSS (MB)"],
        sc.rooms.table.map((t) => [
          dbName(t.target),
          n(t.rooms),
          n(t.eventsPerSecond),
          n(t.cpuUsPerEvent),
          n(t.rssMB, 1),
        ]),
      ),
    );
  }
  const shapes = r.figures.shapes;
  if (shapes) {
    parts.push(
      "",
      "#### Database work per inbound event: today vs batched (projection of the proposed fix)",
      "",
      `${n(shapes.profile.events)} claimed events of one room per run, ${shapes.profile.reps} repetitions, ` +
        `batches of ${shapes.profile.batch}; the statements only (no bridge, no HTTP).`,
      "",
      table(
        ["Database", "Shape", "Events/s", "ms/event", "batched vs today"],
        shapes.table.map((t) => [
          t.database,
          t.shape,
          n(t.eventsPerSecond),
          n(t.msPerEvent, 2),
          t.ratio === undefined ? "" : x(t.ratio),
        ]),
      ),
    );
  }
  for (const [name, ext] of Object.entries(r.external)) {
    parts.push("", `#### \`bench/${name}.ts\``, "");
    if (ext.skipped) parts.push(`Not run (${ext.skipped}).`, "");
    if (ext.error) parts.push(`Failed: ${ext.error.split("\n")[0]}`, "");
    if (ext.result !== undefined) {
      const leaves = flatten(ext.result).slice(0, 40);
      parts.push(
        table(
          ["Key", "Value"],
          leaves.map(([k, v]) => [`\`${k}\``, v]),
        ),
      );
    }
  }
  return parts.join("\n");
}

function flatten(value: unknown, prefix = ""): [string, string][] {
  if (value === null || typeof value !== "object") {
    const shown =
      typeof value === "number"
        ? value.toLocaleString("en-US", { maximumFractionDigits: 3 })
        : String(value).replace(/\|/g, "\\|");
    return [[prefix || "(value)", shown]];
  }
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out.push(...flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}

export function renderGenerated(r: BenchResults): string {
  return [
    START,
    "",
    `_Run of ${r.startedAt.slice(0, 16).replace("T", " ")} UTC: \`${r.command}\`, wall time ${n(r.wallSeconds)} s` +
      `${r.errors.length ? `, **${r.errors.length} figure(s) failed** (see the JSON)` : ""}. ` +
      "Raw numbers: [`bench/results/latest.json`](bench/results/latest.json)._",
    "",
    "### Machine",
    "",
    machineTable(r),
    "",
    "### Targets (issue 11)",
    "",
    targetsTable(r),
    "",
    "### Summary",
    "",
    summaryTable(r),
    "",
    "### Details",
    "",
    details(r),
    "",
    END,
  ].join("\n");
}

const TEMPLATE = `# Benchmarks\n\n${START}\n${END}\n`;

/** Replaces the generated section of BENCHMARKS.md (creating the file if needed) and formats it with Prettier. */
export async function updateBenchmarksMd(path: string, r: BenchResults): Promise<void> {
  const current = existsSync(path) ? readFileSync(path, "utf8") : TEMPLATE;
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const generated = renderGenerated(r);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + generated + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n## Latest results\n\n${generated}\n`;
  writeFileSync(path, await formatMarkdown(next, path));
}

async function formatMarkdown(text: string, path: string): Promise<string> {
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...options, parser: "markdown" });
  } catch {
    return text; // Prettier is a dev dependency; without it the table is still valid Markdown
  }
}
