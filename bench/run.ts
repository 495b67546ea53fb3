/**
 * `npm run bench`: every figure of BENCHMARKS.md, measured side by side on this machine, then
 * bench/results/<timestamp>.json, bench/results/latest.json and the generated part of
 * BENCHMARKS.md. Options: --smoke (tiny sizes), --only inbound,scaling,latency,outbound,footprint,shapes,
 * --out <dir> (results directory), --no-markdown, --no-external (skip other engineers' modules),
 * --render <results.json> (only rewrite BENCHMARKS.md from a results file).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchEnv, type SlotSpec } from "./lib/env";
import { TargetPool } from "./lib/target";
import { say } from "./lib/log";
import { machineInfo, type MachineInfo } from "./lib/machine";
import { repoRoot } from "./lib/paths";
import { createThrowawayDatabase, type ThrowawayDatabase } from "./lib/pg";
import { runExternal, type ExternalResult } from "./lib/external";
import { FULL, SMOKE, type BenchProfile } from "./profiles";
import {
  runInbound,
  runScaling,
  type EventScalingResult,
  type InboundResult,
  type RoomScalingResult,
} from "./inbound";
import { runLatency, type LatencyResult } from "./latency";
import { runOutbound, type OutboundResult } from "./outbound";
import { runFootprint, type FootprintResult } from "./footprint";
import { runShapes, type ShapesResult } from "./pipelineShapes";
import { updateBenchmarksMd } from "./report";
import { configureLogging } from "../src/logging/logger";

/** `npm run bench` must finish within this (issue 6), on 2 shared cores. */
const BUDGET_S = 15 * 60 - 30;
/** How long each of the other bench modules takes here (each starts its own Synapse). */
const EXTERNAL_ESTIMATE_S = 150;

export const FIGURES = ["inbound", "scaling", "latency", "outbound", "footprint", "shapes"] as const;
export type Figure = (typeof FIGURES)[number];

export interface BenchResults {
  schema: 1;
  profile: BenchProfile["name"];
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  command: string;
  machine: MachineInfo;
  settings: BenchProfile;
  figures: {
    inbound?: InboundResult;
    scaling?: { rooms: RoomScalingResult; events: EventScalingResult };
    latency?: LatencyResult;
    outbound?: OutboundResult;
    footprint?: FootprintResult;
    shapes?: ShapesResult;
  };
  /** Other bench modules (bench/outboundThroughput.ts, bench/reminderPrecision.ts), as they report. */
  external: Record<string, ExternalResult>;
  errors: { figure: string; error: string }[];
}

export interface RunOptions {
  profile: BenchProfile;
  figures?: readonly Figure[];
  /** Bridge and Synapse logs go here (default: a temp dir). */
  logDir?: string;
}

export async function runBenchmarks(opts: RunOptions): Promise<BenchResults> {
  const started = Date.now();
  const profile = opts.profile;
  // The bench process opens databases itself (outbound, footprint): keep its own logs quiet.
  configureLogging({ level: process.env.MAB_BENCH_LOG_LEVEL ?? "warn", format: "json" });
  const figures = new Set<Figure>(opts.figures ?? FIGURES);
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), "mab-bench-logs-"));
  mkdirSync(logDir, { recursive: true });
  say(`profile ${profile.name}; logs in ${logDir}`);
  const results: BenchResults = {
    schema: 1,
    profile: profile.name,
    startedAt: new Date(started).toISOString(),
    finishedAt: "",
    wallSeconds: 0,
    command: profile.name === "full" ? "npm run bench" : "node dist/bench/run.js --smoke",
    machine: await machineInfo(),
    settings: profile,
    figures: {},
    external: {},
    errors: [],
  };

  const databases: ThrowawayDatabase[] = [];
  const newDatabase = async () => {
    const db = await createThrowawayDatabase();
    databases.push(db);
    return db.url;
  };
  let env: BenchEnv | undefined;
  let pool: TargetPool | undefined;
  const attempt = async (figure: string, fn: () => Promise<void>) => {
    const t0 = Date.now();
    try {
      await fn();
      say(`${figure} done in ${Math.round((Date.now() - t0) / 1000)} s`);
    } catch (err) {
      const error = (err as Error)?.stack ?? String(err);
      say(`${figure} FAILED: ${error}`);
      results.errors.push({ figure, error });
    }
  };
  try {
    // Bridges that would use the embedded database use PostgreSQL when the profile says so.
    const db = async (): Promise<Pick<SlotSpec, "databaseUrl">> =>
      profile.embedded ? {} : { databaseUrl: await newDatabase() };
    const specs: SlotSpec[] = [];
    if (figures.has("inbound")) {
      const names = profile.inbound.targets ?? ["sqlite", "pglite", "postgres", "bare"];
      for (const name of names) {
        if (name === "postgres") specs.push({ name, databaseUrl: await newDatabase() });
        else if (name === "pglite" || name === "sqlite") specs.push({ name, engine: name, ...(await db()) });
        else specs.push({ name });
      }
    }
    if (figures.has("scaling")) {
      for (const name of profile.scaleTargets) {
        specs.push(
          name === "scale-postgres"
            ? { name, databaseUrl: await newDatabase() }
            : { name, engine: name === "scale-sqlite" ? "sqlite" : "pglite", ...(await db()) },
        );
      }
    }
    // The echo agent is a diagnostic, off by default: the latency figure turns it on.
    if (figures.has("latency")) {
      specs.push({ name: "latency", ...(await db()), config: { agents: { echo: { enabled: true } } } });
      // The minimal echo appservice (bench/minimalAppservice.ts), the latency figure's reference.
      specs.push({ name: "minimal" });
    }
    if (figures.has("outbound")) specs.push({ name: "outbound" });
    if (figures.has("footprint")) specs.push({ name: "cli" });
    if (specs.length) {
      say(`starting Synapse with ${specs.length} registrations`);
      env = await BenchEnv.start(specs);
    }
    const e = env as BenchEnv; // only the figures that need it run with it
    pool = new TargetPool(e, logDir);
    const p = pool;
    // Every bridge process starts now, together: start-up is not what these figures measure.
    p.prestart(
      specs.map((s) => s.name).filter((name) => name !== "outbound" && name !== "cli" && name !== "minimal"),
    );

    const jobs: [Figure, () => Promise<void>][] = [
      [
        "inbound",
        async () => {
          results.figures.inbound = await runInbound(e, profile.inbound, p);
        },
      ],
      [
        "scaling",
        async () => {
          results.figures.scaling = await runScaling(e, profile.inbound, profile.scaleTargets, p);
        },
      ],
      [
        "latency",
        async () => {
          results.figures.latency = await runLatency(e, profile.latency, p);
        },
      ],
      [
        "outbound",
        async () => {
          const { postgres, ...rest } = profile.outbound;
          results.figures.outbound = await runOutbound(e, {
            ...rest,
            embedded: profile.embedded,
            ...(postgres ? { postgresUrl: await newDatabase() } : {}),
          });
        },
      ],
      [
        "footprint",
        async () => {
          results.figures.footprint = await runFootprint(e, profile.footprint, logDir);
        },
      ],
    ];
    jobs.push([
      "shapes",
      async () => {
        results.figures.shapes = await runShapes(profile.shapes, profile.embedded);
      },
    ]);
    const selected = jobs.filter(([figure]) => figures.has(figure));
    if (profile.parallel) await Promise.all(selected.map(([figure, fn]) => attempt(figure, fn)));
    else for (const [figure, fn] of selected) await attempt(figure, fn);
  } catch (err) {
    results.errors.push({ figure: "setup", error: (err as Error)?.stack ?? String(err) });
  } finally {
    await pool?.stopAll();
    await env?.close();
    for (const db of databases) await db.drop().catch(() => undefined);
  }

  if (profile.external) {
    for (const name of ["outboundThroughput", "reminderPrecision", "encrypted"]) {
      // `npm run bench` must finish within 15 minutes on this machine: when the run is already
      // late (a busy machine), another engineer's module that would not fit is skipped, and says so.
      const elapsed = (Date.now() - started) / 1000;
      if (profile.name === "full" && elapsed + EXTERNAL_ESTIMATE_S > BUDGET_S) {
        const note = `skipped: ${Math.round(elapsed)} s of the ${BUDGET_S} s budget used, and it takes about ${EXTERNAL_ESTIMATE_S} s`;
        say(`${name}: ${note}`);
        results.external[name] = { skipped: note, seconds: 0 };
        continue;
      }
      const result = await runExternal(name, logDir);
      if (result) {
        results.external[name] = result;
        if (result.error) results.errors.push({ figure: name, error: result.error });
      }
    }
  }
  results.finishedAt = new Date().toISOString();
  results.wallSeconds = Math.round((Date.now() - started) / 1000);
  return results;
}

function parseArgs(argv: string[]) {
  const args = {
    smoke: false,
    only: undefined as Figure[] | undefined,
    out: "",
    markdown: true,
    external: true,
    render: "",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--smoke") args.smoke = true;
    else if (a === "--no-markdown") args.markdown = false;
    else if (a === "--no-external") args.external = false;
    else if (a === "--only") {
      args.only = (argv[++i] ?? "").split(",").filter(Boolean) as Figure[];
      for (const f of args.only) if (!FIGURES.includes(f)) throw new Error(`--only: unknown figure '${f}'`);
    } else if (a === "--out") args.out = argv[++i] ?? "";
    else if (a === "--render") args.render = argv[++i] ?? "";
    else
      throw new Error(
        `Unknown argument '${a}' (use --smoke, --only <figures>, --out <dir>, --no-markdown, --no-external, --render <json>)`,
      );
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  if (args.render) {
    // Re-render BENCHMARKS.md from a results file (after editing the report code), without measuring.
    const results = JSON.parse(readFileSync(args.render, "utf8")) as BenchResults;
    await updateBenchmarksMd(join(root, "BENCHMARKS.md"), results);
    say(`rendered ${args.render} into BENCHMARKS.md`);
    return 0;
  }
  const base = args.smoke ? SMOKE : FULL;
  const profile = { ...base, external: base.external && args.external };
  const results = await runBenchmarks({ profile, figures: args.only });
  const outDir = args.out || join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, "-");
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const file = join(outDir, `${stamp}${args.smoke ? "-smoke" : ""}.json`);
  writeFileSync(file, json);
  say(`results: ${file}`);
  // latest.json and BENCHMARKS.md hold full runs of every figure only.
  const complete = !args.smoke && !args.only && args.external;
  if (complete) {
    writeFileSync(join(outDir, "latest.json"), json);
    if (args.markdown) {
      const md = join(root, "BENCHMARKS.md");
      await updateBenchmarksMd(md, results);
      say(`updated ${md}${existsSync(md) ? "" : " (created)"}`);
    }
  }
  say(`wall time ${results.wallSeconds} s; ${results.errors.length} error(s)`);
  for (const e of results.errors) say(`error in ${e.figure}: ${e.error.split("\n")[0]}`);
  return results.errors.length ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
