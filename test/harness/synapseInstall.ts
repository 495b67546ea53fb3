/**
 * Makes sure a Python virtualenv with the pinned Synapse exists, outside the repository.
 *
 * Location: `$MAB_SYNAPSE_VENV`, else `${XDG_CACHE_HOME:-~/.cache}/matrix-agent-bridge/synapse-<version>`.
 * An existing venv is reused when its Python imports the pinned Synapse version; otherwise it is
 * (re)created with `python3 -m venv` (`$MAB_PYTHON` overrides the interpreter) and `pip install`.
 * Installation runs under a lock file, so two processes calling this at once install only once.
 * Any failure throws an Error that says why (with the tail of pip's output): tests fail, never skip.
 */
import { spawn } from "node:child_process";
import { promises as fsp, openSync, closeSync, writeSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const SYNAPSE_VERSION = "1.163.2";

/** How long to wait for another process that holds the install lock. */
const LOCK_WAIT_MS = 20 * 60 * 1000;

export function synapseVenvDir(): string {
  if (process.env.MAB_SYNAPSE_VENV) return path.resolve(process.env.MAB_SYNAPSE_VENV);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cache, "matrix-agent-bridge", `synapse-${SYNAPSE_VERSION}`);
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a command, collecting stdout and stderr together (optionally also appending them to a log file). */
function run(cmd: string, args: string[], logFile?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = "";
    let logFd: number | undefined;
    if (logFile) {
      logFd = openSync(logFile, "a");
      writeSync(logFd, `\n$ ${cmd} ${args.join(" ")}\n`);
    }
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      if (logFd !== undefined) writeSync(logFd, chunk);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => {
      output += `\n${String(err)}\n`;
    });
    child.on("close", (code, signal) => {
      if (logFd !== undefined) closeSync(logFd);
      resolve({ code, signal, output });
    });
  });
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** True when the venv's Python imports the pinned Synapse. */
async function venvWorks(python: string): Promise<boolean> {
  try {
    await fsp.access(python);
  } catch {
    return false;
  }
  const res = await run(python, [
    "-c",
    `import synapse, sys; sys.exit(0 if synapse.__version__ == ${JSON.stringify(SYNAPSE_VERSION)} else 3)`,
  ]);
  return res.code === 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `lockPath` (O_EXCL create), breaking it when its owner is gone. Returns a release function. */
async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fh = await fsp.open(lockPath, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await fsp.rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    // Someone holds it: break it if the owner died (or never wrote its pid within a few seconds).
    try {
      const [content, st] = await Promise.all([fsp.readFile(lockPath, "utf8"), fsp.stat(lockPath)]);
      const pid = Number.parseInt(content.trim(), 10);
      const stale = Number.isFinite(pid) ? !pidAlive(pid) : Date.now() - st.mtimeMs > 10_000;
      if (stale) {
        await fsp.rm(lockPath, { force: true });
        continue;
      }
    } catch {
      continue; // vanished between open and read: try again at once
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Synapse install: gave up after ${LOCK_WAIT_MS / 1000}s waiting for the lock ${lockPath} ` +
          `(held by another process installing Synapse; delete it if that process is gone).`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function install(venv: string, logFile: string): Promise<void> {
  const python3 = process.env.MAB_PYTHON || "python3";
  await fsp.rm(venv, { recursive: true, force: true });
  await fsp.mkdir(path.dirname(venv), { recursive: true });
  await fsp.writeFile(logFile, `Synapse ${SYNAPSE_VERSION} install, ${new Date().toISOString()}\n`);

  const mk = await run(python3, ["-m", "venv", venv], logFile);
  if (mk.code !== 0) {
    throw new Error(
      `Synapse install: '${python3} -m venv ${venv}' failed (exit ${mk.code ?? mk.signal}). ` +
        `Is Python 3 with the venv module installed? Last output:\n${tail(mk.output, 20)}\n(full log: ${logFile})`,
    );
  }
  const py = path.join(venv, "bin", "python");
  const pip = await run(
    py,
    [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--no-input",
      `matrix-synapse==${SYNAPSE_VERSION}`,
    ],
    logFile,
  );
  if (pip.code !== 0) {
    throw new Error(
      `Synapse install: 'pip install matrix-synapse==${SYNAPSE_VERSION}' into ${venv} failed ` +
        `(exit ${pip.code ?? pip.signal}). pip's last lines:\n${tail(pip.output, 25)}\n(full log: ${logFile})`,
    );
  }
  if (!(await venvWorks(py))) {
    const check = await run(py, ["-c", "import synapse; print(synapse.__version__)"]);
    throw new Error(
      `Synapse install: pip succeeded but '${py} -c "import synapse"' does not give ${SYNAPSE_VERSION}:\n` +
        `${tail(check.output, 20)}\n(full log: ${logFile})`,
    );
  }
}

let inProcess: Promise<{ python: string }> | undefined;

/**
 * Ensures the Synapse venv exists and works; returns its Python interpreter.
 * Idempotent (memoised per process) and safe when several processes call it at once.
 */
export function ensureSynapse(): Promise<{ python: string }> {
  if (!inProcess) {
    inProcess = doEnsure();
    // A failed attempt may be retried by a later call.
    inProcess.catch(() => {
      inProcess = undefined;
    });
  }
  return inProcess;
}

async function doEnsure(): Promise<{ python: string }> {
  const venv = synapseVenvDir();
  const python = path.join(venv, "bin", "python");
  if (await venvWorks(python)) return { python };

  await fsp.mkdir(path.dirname(venv), { recursive: true });
  const release = await acquireLock(`${venv}.lock`);
  try {
    // Another process may have finished the install while we waited for the lock.
    if (await venvWorks(python)) return { python };
    await install(venv, `${venv}.install.log`);
    return { python };
  } finally {
    await release();
  }
}
