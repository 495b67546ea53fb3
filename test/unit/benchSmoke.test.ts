import { buildWorkload, roomIds, TXN_SIZE } from "../../bench/lib/load";
import { median, pairedRatio, percentile, summarize } from "../../bench/lib/stats";
import { parseHistograms, windowMeans } from "../../bench/lib/metrics";
import { lastJson } from "../../bench/lib/external";
import { renderGenerated, summaryTable, START, END } from "../../bench/report";
import type { BenchResults } from "../../bench/run";
import { FULL, SMOKE } from "../../bench/profiles";
import { targets, targetsTable } from "../../bench/targets";

/** The pure parts of the benchmarks (the e2e smoke runs the rest against a real Synapse). */
describe("bench helpers", () => {
  it("computes medians, nearest-rank percentiles and paired ratios", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(summarize(hundred)).toMatchObject({ n: 100, min: 1, max: 100, p95: 95 });
    expect(pairedRatio([10, 20, 30], [20, 20, 20])).toBe(1);
  });

  it("builds transactions of 100 events with the asked share of replays", () => {
    const rooms = roomIds(7);
    const first = buildWorkload(rooms, 2);
    expect(first.workload).toMatchObject({ posted: 200, fresh: 200 });
    const replayed = buildWorkload(rooms, 3, 0.5, first.lastFresh);
    expect(replayed.workload).toMatchObject({ posted: 300, fresh: 150 });
    const txns = replayed.workload.bodies.map((b) => JSON.parse(b).events as { event_id: string }[]);
    for (const txn of txns) {
      expect(txn).toHaveLength(TXN_SIZE);
      expect(new Set(txn.map((e) => e.event_id)).size).toBe(TXN_SIZE);
    }
    const seen = new Set(first.lastFresh.map((e) => e.event_id));
    const replays = txns.flat().filter((e) => seen.has(e.event_id)).length;
    expect(replays).toBe(50); // the first transaction replays the primer's events
    expect(() => buildWorkload(rooms, 1, 0.5)).toThrow(/not enough earlier events/);
  });

  it("reads histogram means from two Prometheus scrapes", () => {
    const before = parseHistograms('mab_x_seconds_sum{a="1"} 1\nmab_x_seconds_count{a="1"} 10\n');
    const after = parseHistograms(
      'mab_x_seconds_sum{a="1"} 2\nmab_x_seconds_count{a="1"} 15\nmab_x_seconds_sum{a="2"} 0.5\nmab_x_seconds_count{a="2"} 5\n',
    );
    expect(windowMeans(before, after)).toEqual({ mab_x_seconds: { count: 10, meanMs: 150 } });
  });

  it("takes the JSON another bench module prints", () => {
    expect(lastJson('progress\n{"a":1}\n')).toEqual({ a: 1 });
    expect(lastJson('{\n  "a": 2\n}\n')).toEqual({ a: 2 });
    expect(lastJson("no json")).toBeUndefined();
  });

  it("keeps the full run's repetitions and sizes", () => {
    expect(FULL.inbound.reps).toBeGreaterThanOrEqual(3);
    expect(FULL.latency.roundTrips).toBeGreaterThanOrEqual(200);
    expect(FULL.inbound.checkpoints.at(-1)).toBe(100_000);
    expect(FULL.outbound.roomCounts).toEqual([1, 10, 100]);
    expect(FULL.inbound.roomCounts).toEqual([10, 100, 1000]);
    expect(FULL.footprint.scheduled).toBe(10_000);
    expect(SMOKE.name).toBe("smoke");
  });

  it("renders a report even when figures are missing", () => {
    const results = {
      schema: 1,
      profile: "full",
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:10:00.000Z",
      wallSeconds: 600,
      command: "npm run bench",
      machine: {
        cpus: 2,
        cpuModel: "cpu",
        memoryGB: 4,
        kernel: "Linux",
        node: "v22",
        synapse: "1.163.2",
        postgres: "15",
        pglite: "0.5",
        matrixAppserviceBridge: "11",
        loadAverageAtStart: 1,
      },
      settings: FULL,
      figures: {},
      external: { other: { result: { rate: 12.5, nested: { p50: 3 } }, seconds: 5 } },
      errors: [{ figure: "latency", error: "boom" }],
    } as BenchResults;
    const md = renderGenerated(results);
    expect(md.startsWith(START)).toBe(true);
    expect(md.endsWith(END)).toBe(true);
    expect(md).toContain("1 figure(s) failed");
    expect(md).toContain("`nested.p50`");
    expect(summaryTable(results)).toContain("| Figure |");
  });
});

describe("the issue 11 targets of a run", () => {
  const run = {
    figures: {
      inbound: {
        cpuByKind: [
          { kind: "inert", target: "sqlite", cpuRatioToBare: 5.4, cpuUsPerEvent: 54, bareCpuUsPerEvent: 10 },
          { kind: "inert", target: "pglite", cpuRatioToBare: 8.8, cpuUsPerEvent: 88, bareCpuUsPerEvent: 10 },
          {
            kind: "commands",
            target: "postgres",
            cpuRatioToBare: 7,
            cpuUsPerEvent: 70,
            bareCpuUsPerEvent: 10,
          },
        ],
      },
    },
    external: {},
  } as unknown as BenchResults;

  it("judges SQLite and PostgreSQL, shows PGlite without judging it, and says what was not measured", () => {
    const rows = targets(run);
    const byWhat = (text: string) => rows.find((r) => r.what.includes(text))!;
    expect(byWhat("chat no agent acts on, embedded (SQLite)")).toMatchObject({ holds: false });
    expect(byWhat("chat no agent acts on, embedded (PGlite)")).toMatchObject({ holds: false, info: true });
    expect(byWhat("commands, PostgreSQL")).toMatchObject({ holds: true });
    expect(byWhat("Idle RSS").holds).toBeUndefined();
    const table = targetsTable(run);
    expect(table).toContain("| 5.4× (54.0 vs 10.0 µs) | **no** |");
    expect(table).toContain("no (not a target: PGlite is kept only for existing data dirs)");
    expect(table).toMatch(/Idle RSS.*\| not measured \|/);
  });
});
