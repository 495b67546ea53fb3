import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths";
import { say } from "./log";

export interface ExternalResult {
  /** The module's JSON output. */
  result?: unknown;
  error?: string;
  /** Why it did not run. */
  skipped?: string;
  seconds: number;
}

/** How long another engineer's bench module may run before it is stopped. */
const TIMEOUT_MS = 5 * 60_000;

/** The last line of `text` (or the whole of it) that parses as a JSON object. */
export function lastJson(text: string): unknown {
  const whole = text.trim();
  try {
    const v = JSON.parse(whole);
    if (v && typeof v === "object") return v;
  } catch {
    // not one document; try line by line
  }
  const lines = whole.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line.startsWith("{") && !line.startsWith("[")) continue;
    try {
      return JSON.parse(line);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Runs dist/bench/<name>.js (another engineer's benchmark) as its own process, if it exists, and
 * takes the JSON it prints on stdout (the whole output, or its last JSON line). Progress on stderr
 * goes to <logDir>/<name>.log. Undefined when the module does not exist.
 */
export async function runExternal(name: string, logDir: string): Promise<ExternalResult | undefined> {
  const file = join(repoRoot(), "dist", "bench", `${name}.js`);
  if (!existsSync(file)) {
    say(`${name}: not present (bench/${name}.ts), skipped`);
    return undefined;
  }
  say(`${name}: running ${file}`);
  const started = Date.now();
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, "a");
  let stdout = "";
  const outcome = await new Promise<{ code: number | null; signal: string | null; timedOut: boolean }>(
    (resolve) => {
      const child = spawn(process.execPath, [file], {
        cwd: repoRoot(),
        stdio: ["ignore", "pipe", fd],
        env: { ...process.env, MAB_BENCH_JSON: "1" },
      });
      child.stdout?.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, TIMEOUT_MS);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut });
      });
    },
  );
  closeSync(fd);
  const seconds = Math.round((Date.now() - started) / 1000);
  const result = lastJson(stdout);
  if (outcome.timedOut)
    return { result, seconds, error: `stopped after ${TIMEOUT_MS / 1000} s (see ${logFile})` };
  if (outcome.code !== 0) {
    return { result, seconds, error: `exited with ${outcome.code ?? outcome.signal} (see ${logFile})` };
  }
  if (result === undefined) return { seconds, error: `printed no JSON on stdout (see ${logFile})` };
  say(`${name}: done in ${seconds} s`);
  return { result, seconds };
}
