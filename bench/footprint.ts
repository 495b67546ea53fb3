/**
 * Footprint of the real thing: `node bin/matrix-agent-bridge.js start --config …` as a
 * process on the embedded database. Time from spawn to the first 200 on /ready (on a fresh
 * database, and restarting on an existing one), resident memory idle, and idle with 10,000
 * scheduled items (far in the future) for an agent that schedules. Each embedded engine
 * (database.engine sqlite, the default, and pglite) side by side; runs rotate per repetition.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { AGENT_DEFINITIONS } from "../src/agents/registry";
import { openDatabase } from "../src/store/database";
import { ScheduleStore } from "../src/store/scheduleStore";
import type { BenchEnv } from "./lib/env";
import { say } from "./lib/log";
import { repoRoot } from "./lib/paths";
import { MB, rssOf } from "./lib/proc";
import { median, round, sleep } from "./lib/stats";

export interface FootprintProfile {
  reps: number;
  scheduled: number;
  /** How long the process sits idle after ready before memory is sampled. */
  settleMs: number;
  /** Which starts to measure (default all three). */
  variants?: Variant[];
  /** Which embedded engines (default both; the first is the default engine). */
  engines?: FootprintEngine[];
}

export type FootprintEngine = "sqlite" | "pglite";
const ENGINES: FootprintEngine[] = ["sqlite", "pglite"];

export interface FootprintResult {
  profile: FootprintProfile;
  scheduledAgent: { id: string; schedules: boolean };
  samples: { engine: FootprintEngine; variant: Variant; rep: number; readyMs: number; rssMB: number }[];
  table: { engine: FootprintEngine; variant: Variant; readyMs: number; rssMB: number }[];
}

export type Variant = "fresh database" | "restart" | "restart, 10k scheduled";
const VARIANTS: Variant[] = ["fresh database", "restart", "restart, 10k scheduled"];

/** The registry agent whose items the scheduler would fire (one with onDue), else the first one. */
function schedulingAgent(): { id: string; schedules: boolean; enabledByDefault: boolean } {
  for (const def of AGENT_DEFINITIONS) {
    if (typeof def.create().onDue === "function") {
      return { id: def.manifest.id, schedules: true, enabledByDefault: def.manifest.enabledByDefault };
    }
  }
  const first = AGENT_DEFINITIONS[0];
  return { id: first.manifest.id, schedules: false, enabledByDefault: first.manifest.enabledByDefault };
}

class CliProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly readyMs: number,
  ) {}

  static async start(configPath: string, port: number, logFile: string): Promise<CliProcess> {
    const root = repoRoot();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MAB_")));
    const fd = openSync(logFile, "a");
    const t0 = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        [join(root, "bin", "matrix-agent-bridge.js"), "start", "--config", configPath],
        {
          cwd: root,
          env,
          stdio: ["ignore", fd, fd],
        },
      );
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the bridge exited during start-up (see ${logFile})`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`the bridge was not ready within 60 s (see ${logFile})`);
      }
      await sleep(20);
    }
    return new CliProcess(child, performance.now() - t0);
  }

  /** Median of a few RSS samples. */
  async rss(samples = 5): Promise<number> {
    const values: number[] = [];
    for (let i = 0; i < samples; i++) {
      values.push(rssOf(this.child.pid ?? 0));
      await sleep(200);
    }
    return median(values);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function runFootprint(
  env: BenchEnv,
  profile: FootprintProfile,
  logDir: string,
): Promise<FootprintResult> {
  const slot = env.slot("cli");
  const agent = schedulingAgent();
  let dirs = 0;
  const newConfig = (engine: FootprintEngine): { path: string; dataDir: string } => {
    const dir = join(slot.dir, `run-${++dirs}`);
    mkdirSync(dir, { recursive: true });
    const dataDir = join(dir, "data");
    const raw = {
      ...slot.raw,
      database: { data_dir: dataDir, engine },
      agents: agent.enabledByDefault ? {} : { [agent.id]: { enabled: true } },
    };
    const path = join(dir, "config.yaml");
    writeFileSync(path, yaml.dump(raw));
    return { path, dataDir };
  };
  const log = join(logDir, "cli.log");
  const startCli = (path: string) => CliProcess.start(path, slot.port, log);

  const variants = profile.variants ?? VARIANTS;
  const engines = profile.engines ?? ENGINES;
  // Per engine, two long-lived databases: one plain, one with the scheduled items (migrated by a first start).
  const dbs = new Map<
    FootprintEngine,
    { plain: ReturnType<typeof newConfig>; loaded: ReturnType<typeof newConfig> }
  >();
  for (const engine of engines) {
    const plain = newConfig(engine);
    const loaded = newConfig(engine);
    dbs.set(engine, { plain, loaded });
    const setup = variants.includes("restart") ? [plain, loaded] : [loaded];
    for (const c of setup) await (await startCli(c.path)).stop();
    const db = await openDatabase({ data_dir: loaded.dataDir, engine });
    try {
      const store = new ScheduleStore(db.knex);
      const far = Date.now() + 365 * 86_400_000;
      await db.knex.transaction(async (trx) => {
        for (let i = 0; i < profile.scheduled; i++) {
          await store.add(trx, agent.id, new Date(far + i * 60_000), { text: `footprint item ${i}` });
        }
      });
    } finally {
      await db.close();
    }
  }
  say(`footprint: ${profile.scheduled} items scheduled for agent '${agent.id}' (${engines.join(", ")})`);

  const runs = engines.flatMap((engine) => variants.map((variant) => ({ engine, variant })));
  const samples: FootprintResult["samples"] = [];
  for (let rep = 0; rep < profile.reps; rep++) {
    for (let k = 0; k < runs.length; k++) {
      const { engine, variant } = runs[(k + rep) % runs.length];
      const own = dbs.get(engine)!;
      const config =
        variant === "fresh database" ? newConfig(engine) : variant === "restart" ? own.plain : own.loaded;
      const cli = await startCli(config.path);
      try {
        await sleep(profile.settleMs);
        const sample = {
          engine,
          variant,
          rep,
          readyMs: Math.round(cli.readyMs),
          rssMB: round((await cli.rss()) / MB, 1),
        };
        samples.push(sample);
        say(
          `footprint rep ${rep + 1}/${profile.reps} ${engine} ${variant}: ready in ${sample.readyMs} ms, RSS ${sample.rssMB} MB`,
        );
      } finally {
        await cli.stop();
      }
    }
  }
  const table = runs.map(({ engine, variant }) => {
    const mine = samples.filter((s) => s.engine === engine && s.variant === variant);
    return {
      engine,
      variant,
      readyMs: Math.round(median(mine.map((s) => s.readyMs))),
      rssMB: round(median(mine.map((s) => s.rssMB)), 1),
    };
  });
  return { profile, scheduledAgent: { id: agent.id, schedules: agent.schedules }, samples, table };
}
