import type { Knex } from "knex";
import { loadCheckedConfig } from "../config/checkedConfig";
import type { BridgeConfig } from "../config/bridgeConfig";
import { BridgeError } from "../errors";
import { configureLogging } from "../logging/logger";
import { openDatabase } from "../store/database";
import { migrate } from "../store/migrations";
import { runAdminCommand } from "../admin/adminCommands";
import { AgentPauses } from "../admin/agentPauses";
import { adminAgents } from "../admin/operatorSetup";
import type { ResolvedAgent } from "../agents/agentConfig";
import { say } from "./output";

/** Where the CLI finds the running bridge: its own bind address and port, on loopback if it binds all. */
function bridgeUrl(config: BridgeConfig): string {
  const bind = config.appservice.bind_address;
  const host = bind === "0.0.0.0" || bind === "::" || bind === "" ? "127.0.0.1" : bind;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.appservice.port}`;
}

async function answers(url: string): Promise<boolean> {
  return fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  );
}

/** Terminal text from the bot's Markdown answer (bold markers only mean something in a client). */
function plain(markdown: string): string {
  return markdown.replace(/\*\*/g, "");
}

/**
 * `matrix-agent-bridge status | parked | retry | discard | agents | agent`: the running bridge
 * answers through its operator API (admin.token); a stopped bridge's database is read directly
 * (the embedded database allows one process at a time, so never while the bridge runs).
 */
export async function runOperatorCommand(configPath: string, command: string): Promise<number> {
  configureLogging({ level: "warn", format: "json" });
  const { config, agents } = loadCheckedConfig(configPath);
  const url = bridgeUrl(config);
  if (config.appservice.port !== 0 && (await answers(url))) {
    say(plain(await askRunningBridge(url, config.admin.token, command)));
    return 0;
  }
  say(plain(await runOnDatabase(config, agents, command)));
  return 0;
}

async function askRunningBridge(url: string, token: string | undefined, command: string): Promise<string> {
  if (!token) {
    throw new BridgeError(
      "BRIDGE_UNREACHABLE",
      `The bridge is running (it answers at ${url}) but admin.token is not set`,
      "Set admin.token (or MAB_ADMIN_TOKEN) to the same value for the bridge and the CLI and restart the bridge, or DM the bridge bot",
    );
  }
  let res: Response;
  try {
    res = await fetch(`${url}/admin/v1/command`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ command }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new BridgeError(
      "BRIDGE_UNREACHABLE",
      `The bridge at ${url} did not answer: ${(err as Error).message}`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as { answer?: string; error?: string };
  if (res.ok && typeof body.answer === "string") return body.answer;
  throw new BridgeError(
    "BRIDGE_UNREACHABLE",
    `The bridge at ${url} refused the command (${res.status}: ${body.error ?? "no details"})`,
    res.status === 401 || res.status === 404
      ? "The CLI and the running bridge must use the same admin.token (the bridge reads it at start)"
      : undefined,
  );
}

async function runOnDatabase(
  config: BridgeConfig,
  agents: ResolvedAgent[],
  command: string,
): Promise<string> {
  const db = await openDatabase(config.database);
  try {
    // The same migrations the bridge runs at start, so a stopped bridge's tables are current.
    await migrate(
      db,
      agents
        .filter((a) => a.definition.manifest.migrations?.length)
        .map((a) => ({ owner: a.id, migrations: a.definition.manifest.migrations! })),
    );
    const pauses = await new AgentPauses().load(db.knex);
    const answer = await db.knex.transaction((trx) =>
      runAdminCommand(command, {
        db: trx as unknown as Knex,
        agents: adminAgents(agents),
        pauses,
        now: new Date(),
        by: "cli",
        afterCommit: () => undefined,
      }),
    );
    return `${answer}\n\n(The bridge is not running: this came straight from its database.)`;
  } finally {
    await db.close();
  }
}
