/**
 * A real Synapse for end-to-end tests: one fresh temp dir per handle, generated config plus a
 * permissive overlay (loopback only, no federation, no rate limits), users via the shared-secret
 * admin API. See /work/shared/matrix-notes.md ("Synapse for tests").
 *
 * Processes never outlive the test run: children are tracked and killed on 'exit', and each
 * Synapse is started through a tiny launcher that asks Linux to SIGKILL it when its parent dies
 * (PR_SET_PDEATHSIG), which also covers a test runner killed with SIGKILL, and Jest, whose
 * sandboxed `process` never emits 'exit' to test code.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { promises as fsp, closeSync, openSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ensureSynapse } from "./synapseInstall";

export interface SynapseHandle {
  baseUrl: string;
  serverName: string;
  port: number;
  dataDir: string;
  registrationSharedSecret: string;
  /** The running Synapse's pid (undefined while stopped). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  restart(): Promise<void>;
  registerUser(
    username: string,
    password: string,
    admin?: boolean,
  ): Promise<{ userId: string; accessToken: string; deviceId: string }>;
  logs(): string;
}

export interface StartSynapseOptions {
  /** Appservice registration files (`app_service_config_files`). */
  registrationPaths?: string[];
  /** Default "localhost". */
  serverName?: string;
}

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 10_000;

/* ---------------- child tracking ---------------- */

const children = new Set<ChildProcess>();
/** Temp dirs of handles not yet stopped: removed on 'exit' (unless MAB_KEEP_SYNAPSE=1). */
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    if (process.env.MAB_KEEP_SYNAPSE === "1") return;
    for (const dir of liveDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

/**
 * Runs the rest of argv with the same Python after PR_SET_PDEATHSIG(SIGKILL), so the process dies
 * with its parent. Best effort outside Linux. Exits at once if the parent is already gone.
 */
export const PARENT_DEATH_LAUNCHER = [
  "import ctypes, os, signal, sys",
  "try:",
  "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)",
  "except Exception:",
  "    pass",
  "if os.getppid() != int(sys.argv[1]):",
  "    sys.exit(70)",
  "os.execv(sys.executable, [sys.executable] + sys.argv[2:])",
].join("\n");

/** Spawns `python <args>` through the parent-death launcher, stdout+stderr appended to logFile. */
export function spawnTiedToParent(
  python: string,
  args: string[],
  logFile: string,
  cwd: string,
): ChildProcess {
  installExitHook();
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(python, ["-c", PARENT_DEATH_LAUNCHER, String(process.pid), ...args], {
      cwd,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    children.add(child);
    child.once("exit", () => children.delete(child));
    // A forgotten handle must not keep the test runner alive; the launcher kills Synapse when we exit.
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/* ---------------- helpers ---------------- */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

function tailLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

function runToEnd(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
    child.on("error", (err) => (output += `\n${String(err)}`));
    child.on("close", (code) => resolve({ code, output }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

const RATE_LIMIT_KEYS = [
  "rc_message",
  "rc_registration",
  "rc_registration_token_validity",
  "rc_room_creation",
  "rc_joins.local",
  "rc_joins.remote",
  "rc_joins_per_room",
  "rc_invites.per_room",
  "rc_invites.per_user",
  "rc_invites.per_issuer",
  "rc_third_party_invite",
  "rc_login.address",
  "rc_login.account",
  "rc_login.failed_attempts",
  "rc_admin_redaction",
  "rc_3pid_validation",
  "rc_presence.per_user",
  "rc_delayed_event_mgmt",
  "rc_user_directory",
  "rc_media_create",
  "rc_reports",
  "rc_key_requests",
  "rc_profile",
];

function rateLimitOverlay(): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of RATE_LIMIT_KEYS) {
    const [top, sub] = key.split(".");
    const limit = { per_second: 1000, burst_count: 1000 };
    if (sub) out[top] = { ...(out[top] ?? {}), [sub]: limit };
    else out[top] = limit;
  }
  return out;
}

const LOG_CONFIG = {
  version: 1,
  formatters: {
    precise: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" },
  },
  handlers: {
    console: { class: "logging.StreamHandler", formatter: "precise", stream: "ext://sys.stderr" },
  },
  loggers: { "synapse.storage.SQL": { level: "INFO" } },
  root: { level: "INFO", handlers: ["console"] },
  disable_existing_loggers: false,
};

/* ---------------- startSynapse ---------------- */

export async function startSynapse(opts: StartSynapseOptions = {}): Promise<SynapseHandle> {
  const { python } = await ensureSynapse();
  const serverName = opts.serverName ?? "localhost";
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "mab-synapse-"));
  installExitHook();
  liveDirs.add(dir);
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "synapse.log");
  await fsp.mkdir(dataDir);
  await fsp.writeFile(logFile, "");

  try {
    const gen = await runToEnd(
      python,
      [
        "-m",
        "synapse.app.homeserver",
        "--generate-config",
        "--server-name",
        serverName,
        "--config-path",
        path.join(dir, "homeserver.yaml"),
        "--report-stats=no",
        "--data-directory",
        dataDir,
        "--config-directory",
        dir,
      ],
      dir,
    );
    if (gen.code !== 0) {
      throw new Error(`Synapse --generate-config failed (exit ${gen.code}):\n${tailLines(gen.output, 40)}`);
    }

    const port = await freePort();
    const registrationSharedSecret = randomBytes(24).toString("hex");
    const overlay = {
      listeners: [
        {
          port,
          bind_addresses: ["127.0.0.1"],
          type: "http",
          tls: false,
          x_forwarded: false,
          resources: [{ names: ["client"], compress: false }],
        },
      ],
      database: { name: "sqlite3", args: { database: path.join(dataDir, "homeserver.db") } },
      log_config: path.join(dir, "log.yaml"),
      public_baseurl: `http://127.0.0.1:${port}/`,
      trusted_key_servers: [],
      suppress_key_server_warning: true,
      federation_domain_whitelist: [],
      enable_registration: true,
      enable_registration_without_verification: true,
      registration_shared_secret: registrationSharedSecret,
      bcrypt_rounds: 4,
      presence: { enabled: false },
      report_stats: false,
      enable_metrics: false,
      app_service_config_files: (opts.registrationPaths ?? []).map((p) => path.resolve(p)),
      // The appservice crypto feeds (to-device messages, key counts, device lists in transactions).
      experimental_features: {
        msc2409_to_device_messages_enabled: true,
        msc3202_transaction_extensions: true,
      },
      ...rateLimitOverlay(),
    };
    await fsp.writeFile(path.join(dir, "log.yaml"), yaml.dump(LOG_CONFIG));
    await fsp.writeFile(path.join(dir, "overlay.yaml"), yaml.dump(overlay));

    const handle = new Synapse(python, dir, dataDir, logFile, serverName, port, registrationSharedSecret);
    await handle.launch();
    return handle;
  } catch (err) {
    liveDirs.delete(dir);
    if (process.env.MAB_KEEP_SYNAPSE !== "1") await fsp.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

class Synapse implements SynapseHandle {
  readonly baseUrl: string;
  private child: ChildProcess | undefined;
  private removed = false;
  private finalLogs: string | undefined;

  constructor(
    private readonly python: string,
    private readonly dir: string,
    readonly dataDir: string,
    private readonly logFile: string,
    readonly serverName: string,
    readonly port: number,
    readonly registrationSharedSecret: string,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child && !exited(this.child) ? this.child.pid : undefined;
  }

  logs(): string {
    if (this.finalLogs !== undefined) return this.finalLogs;
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Starts Synapse on the prepared dir and waits for /_matrix/client/versions. */
  async launch(): Promise<void> {
    if (this.removed) throw new Error("this Synapse was stopped and its directory removed");
    if (this.child && !exited(this.child)) throw new Error("Synapse is already running");
    const child = spawnTiedToParent(
      this.python,
      ["-m", "synapse.app.homeserver", "-c", "homeserver.yaml", "-c", "overlay.yaml"],
      this.logFile,
      this.dir,
    );
    this.child = child;
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError) {
        throw new Error(`Synapse could not be spawned: ${spawnError.message}`);
      }
      if (exited(child)) {
        throw new Error(
          `Synapse exited during start-up (code ${child.exitCode}, signal ${child.signalCode}); ` +
            `last 40 log lines (${this.logFile}):\n${tailLines(this.logs(), 40)}`,
        );
      }
      try {
        const res = await fetch(`${this.baseUrl}/_matrix/client/versions`, {
          signal: AbortSignal.timeout(2000),
        });
        if (res.ok) {
          await res.arrayBuffer();
          return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        const logs = this.logs();
        await this.killChild();
        throw new Error(
          `Synapse was not ready within ${READY_TIMEOUT_MS / 1000}s at ${this.baseUrl}; ` +
            `last 40 log lines (${this.logFile}):\n${tailLines(logs, 40)}`,
        );
      }
      await sleep(READY_POLL_MS);
    }
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  private async killChild(): Promise<void> {
    const child = this.child;
    if (!child || exited(child)) return;
    child.kill("SIGTERM");
    if (!(await waitExit(child, STOP_GRACE_MS))) {
      child.kill("SIGKILL");
      await waitExit(child, STOP_GRACE_MS);
    }
  }

  async stop(): Promise<void> {
    await this.killChild();
    if (this.removed) return;
    this.removed = true;
    this.finalLogs = this.logs();
    liveDirs.delete(this.dir);
    if (process.env.MAB_KEEP_SYNAPSE === "1") {
      process.stdout.write(`[e2e] MAB_KEEP_SYNAPSE=1: kept Synapse dir ${this.dir}\n`);
    } else {
      await fsp.rm(this.dir, { recursive: true, force: true });
    }
  }

  async restart(): Promise<void> {
    if (this.removed) throw new Error("cannot restart a Synapse after stop()");
    await this.killChild();
    await this.launch();
  }

  async registerUser(
    username: string,
    password: string,
    admin = false,
  ): Promise<{ userId: string; accessToken: string; deviceId: string }> {
    const url = `${this.baseUrl}/_synapse/admin/v1/register`;
    const nonceRes = await fetch(url);
    const nonceBody = (await nonceRes.json()) as { nonce?: string };
    if (!nonceRes.ok || !nonceBody.nonce) {
      throw new Error(
        `registerUser(${username}): GET nonce failed: ${nonceRes.status} ${JSON.stringify(nonceBody)}`,
      );
    }
    const mac = createHmac("sha1", this.registrationSharedSecret)
      .update(nonceBody.nonce)
      .update("\x00")
      .update(username)
      .update("\x00")
      .update(password)
      .update("\x00")
      .update(admin ? "admin" : "notadmin")
      .digest("hex");
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ nonce: nonceBody.nonce, username, password, admin, mac }),
    });
    const body = (await res.json()) as { user_id?: string; access_token?: string; device_id?: string };
    if (!res.ok || !body.user_id || !body.access_token || !body.device_id) {
      throw new Error(`registerUser(${username}) failed: ${res.status} ${JSON.stringify(body)}`);
    }
    return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id };
  }
}
