import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIGURES, runBenchmarks, type BenchResults } from "../../bench/run";
import { SMOKE } from "../../bench/profiles";
import { END, START, updateBenchmarksMd } from "../../bench/report";

/**
 * `npm run bench` takes minutes; this runs every figure once at tiny sizes (all at once, on
 * PostgreSQL except the CLI footprint), so the benchmarks cannot rot unnoticed: the bridge
 * processes start, every posted event reaches the agent exactly once (the inbound runs check
 * it), the humans get their replies, the queue delivers, the CLI becomes ready, and the report
 * renders. The numbers themselves mean nothing here. Needs `npm run build` (the bridges under
 * load run from dist/bench/target.js); `npm test` builds first.
 */
describe("benchmarks (smoke)", () => {
  let results: BenchResults;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mab-bench-smoke-"));
    process.env.MAB_BENCH_QUIET = "1";
    results = await runBenchmarks({ profile: SMOKE, logDir: join(dir, "logs") });
  }, 240_000);

  afterAll(() => {
    delete process.env.MAB_BENCH_QUIET;
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs every figure without errors", () => {
    expect(results.errors).toEqual([]);
    expect(Object.keys(results.figures).sort()).toEqual([...FIGURES].sort());
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.postgres).toMatch(/^\d+/);
  });

  it("measures the inbound pipeline against the bare library", () => {
    const inbound = results.figures.inbound!;
    for (const row of inbound.table) expect(row.eventsPerSecond).toBeGreaterThan(0);
    const ours = inbound.table.filter((t) => t.target !== "bare");
    expect(ours.length).toBeGreaterThan(0);
    for (const row of ours) expect(row.ratioToBare).toBeGreaterThan(0);
  });

  it("measures latency, outbound, footprint, scaling and the statement shapes", () => {
    const latency = results.figures.latency!;
    expect(latency.ours.n).toBe(SMOKE.latency.roundTrips);
    expect(latency.floor.n).toBe(SMOKE.latency.roundTrips);
    expect(latency.ours.median).toBeGreaterThan(0);
    expect(results.figures.outbound!.table.length).toBeGreaterThan(0);
    for (const row of results.figures.footprint!.table) {
      expect(row.readyMs).toBeGreaterThan(0);
      expect(row.rssMB).toBeGreaterThan(10);
    }
    expect(results.figures.scaling!.events.series.map((s) => s.handled)).toEqual(SMOKE.inbound.checkpoints);
    for (const row of results.figures.shapes!.table) expect(row.eventsPerSecond).toBeGreaterThan(0);
  });

  it("renders the report into BENCHMARKS.md's generated section, keeping the rest", async () => {
    const md = join(dir, "BENCHMARKS.md");
    writeFileSync(md, `# Benchmarks\n\nHand-written text.\n\n${START}\nold\n${END}\n\nMore text.\n`);
    await updateBenchmarksMd(md, results);
    const text = readFileSync(md, "utf8");
    expect(text).toContain("Hand-written text.");
    expect(text).toContain("More text.");
    expect(text).not.toContain("\nold\n");
    expect(text).toContain("### Summary");
    expect(text).toContain("| Figure");
  });
});
