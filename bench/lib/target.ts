import { fork, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { compiledBench } from "./paths";
import { rssOf } from "./proc";

export interface TargetSpec {
  kind: "ours" | "bare";
  /** Our bridge's agents: the no-op agent (default) or the real registry (echo, …). */
  agents?: "noop" | "registry";
  raw: Record<string, unknown>;
  registration: unknown;
}

export type TargetRequest =
  | { cmd: "start"; spec: TargetSpec }
  | { cmd: "addDmRooms"; rooms: { roomId: string; userId: string }[] }
  | { cmd: "addScheduled"; count: number; agentId: string }
  | { cmd: "settle"; expected: number }
  | { cmd: "memory"; gc: boolean }
  | { cmd: "cpu" }
  | { cmd: "stop" };

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers?: number;
}

/** Parent side of bench/target.ts: a bridge in its own process, driven over IPC. */
export class TargetProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  port = 0;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`${name}: ${msg.error}`));
    });
    child.on("exit", (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** Forks dist/bench/target.js and starts the bridge in it. Output goes to `logFile`. */
  static async start(name: string, spec: TargetSpec, logFile: string): Promise<TargetProcess> {
    const fd = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = fork(compiledBench("target"), [], {
        stdio: ["ignore", fd, fd, "ipc"],
        env: { ...process.env, MAB_BENCH_TARGET_KIND: spec.kind },
        execArgv: [
          "--expose-gc",
          // MAB_BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of each bridge process, for finding hot spots.
          ...(process.env.MAB_BENCH_CPU_PROFILE
            ? [
                "--cpu-prof",
                `--cpu-prof-dir=${process.env.MAB_BENCH_CPU_PROFILE}`,
                `--cpu-prof-name=${name}.cpuprofile`,
              ]
            : []),
        ],
      });
    } finally {
      closeSync(fd);
    }
    const target = new TargetProcess(name, child);
    try {
      const { port } = (await target.request({ cmd: "start", spec })) as { port: number };
      target.port = port;
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\n(see ${logFile})`);
    }
    return target;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  request(req: TargetRequest): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, req }, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  async settle(expected: number): Promise<number> {
    return ((await this.request({ cmd: "settle", expected })) as { handled: number }).handled;
  }

  async memory(gc = false): Promise<MemorySample> {
    return (await this.request({ cmd: "memory", gc })) as MemorySample;
  }

  /**
   * CPU time the target has used (user + system, all threads), in ms at µs resolution. Read in
   * the target (`process.cpuUsage()`), not from /proc/<pid>/stat, whose 10 ms ticks made the bare
   * library's 10–40 ms for a workload jump between 1 and 4 ticks (and every ratio to it).
   */
  async cpuMs(): Promise<number> {
    const { user, system } = (await this.request({ cmd: "cpu" })) as { user: number; system: number };
    return (user + system) / 1000;
  }

  /** Resident memory as the OS sees it (/proc), in bytes. */
  rss(): number {
    return rssOf(this.pid);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    await this.request({ cmd: "stop" }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** What runs in a slot's bridge process, by slot name (one place, so prestarting and using agree). */
export function targetKind(slotName: string): Pick<TargetSpec, "kind" | "agents"> {
  if (slotName === "bare") return { kind: "bare" };
  if (slotName === "latency") return { kind: "ours", agents: "registry" };
  return { kind: "ours", agents: "noop" };
}

/**
 * Bridge processes by slot, each started once. The runner starts them all together before the
 * first measurement (start-up is not what these figures measure), and each figure stops its own
 * when it is done.
 */
export class TargetPool {
  private readonly started = new Map<string, Promise<TargetProcess>>();

  constructor(
    private readonly slots: { slot(name: string): { raw: Record<string, unknown>; registration: unknown } },
    private readonly logDir: string,
  ) {}

  get(name: string): Promise<TargetProcess> {
    let p = this.started.get(name);
    if (!p) {
      const slot = this.slots.slot(name);
      p = TargetProcess.start(
        name,
        { ...targetKind(name), raw: slot.raw, registration: slot.registration },
        join(this.logDir, `${name}.log`),
      );
      p.catch(() => undefined); // reported to whoever awaits it
      this.started.set(name, p);
    }
    return p;
  }

  /** Starts these bridges in the background. */
  prestart(names: readonly string[]): void {
    for (const name of names) void this.get(name);
  }

  async stop(name: string): Promise<void> {
    const p = this.started.get(name);
    if (!p) return;
    const target = await p.catch(() => undefined);
    await target?.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.started.keys()].map((name) => this.stop(name)));
  }
}
