/**
 * The bridge in a child process, for tests that kill it (SIGKILL at a crash point, SIGTERM for a
 * graceful stop) and start it again on the same database. See bridgeMain.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { BridgeConfig } from "../../src/config/bridgeConfig";

const ROOT = path.resolve(__dirname, "../..");
const NODE = path.join(ROOT, "node_modules/.bin/node");
const READY_TIMEOUT_MS = 60_000;

const live = new Set<ChildProcess>();

/** Writes `config` as a YAML file the bridge can start from. */
export function writeConfigFile(file: string, config: BridgeConfig): void {
  // JSON round trip: drops undefined optional keys, which YAML cannot represent.
  writeFileSync(file, yaml.dump(JSON.parse(JSON.stringify(config))));
}

export interface BridgeProcess {
  readonly pid: number;
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the bridge has started (rejects if the process ends first). */
  ready(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** The tail of its stdout+stderr. */
  logs(lines?: number): string;
  /** Everything it wrote so far (this process only, not earlier ones with the same log file). */
  output(): string;
}

export interface SpawnOptions {
  configPath: string;
  /** Where its output goes (appended). */
  logFile: string;
  env?: Record<string, string | undefined>;
}

export function spawnBridge(opts: SpawnOptions): BridgeProcess {
  const offset = existsSync(opts.logFile) ? statSync(opts.logFile).size : 0;
  const fd = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(
      NODE,
      [
        "-r",
        path.join(ROOT, "test/harness/tsHook.js"),
        path.join(ROOT, "test/harness/bridgeMain.ts"),
        opts.configPath,
      ],
      { cwd: ROOT, stdio: ["ignore", fd, fd], env: { ...process.env, ...opts.env } },
    );
  } finally {
    closeSync(fd);
  }
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));
  const logs = (lines = 40) => {
    try {
      return readFileSync(opts.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  };
  const output = () => {
    try {
      return readFileSync(opts.logFile).subarray(offset).toString("utf8");
    } catch {
      return "";
    }
  };
  return {
    pid: child.pid!,
    output,
    exited,
    kill: (signal = "SIGTERM") => void child.kill(signal),
    logs,
    async ready() {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline) {
        if (ended) throw new Error(`bridge process ended during start-up:\n${logs()}`);
        if (readFileSync(opts.logFile).subarray(offset).includes("[bridge] ready on port")) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`bridge process not ready after ${READY_TIMEOUT_MS} ms:\n${logs()}`);
    },
  };
}

/** SIGKILLs every bridge process still running (afterAll). */
export function killAllBridges(): void {
  for (const child of live) child.kill("SIGKILL");
}
