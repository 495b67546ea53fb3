import { createServer, type Server } from "node:http";
import type { Knex } from "knex";
import { botUserId, type BridgeConfig } from "../config/bridgeConfig";
import { loadCheckedConfig } from "../config/checkedConfig";
import { configureLogging } from "../logging/logger";
import { BridgeError, errorMessage } from "../errors";
import { resolveAgents } from "../agents/agentConfig";
import { AGENT_DEFINITIONS } from "../agents/registry";
import { readRegistration, registrationProblems, type Registration } from "../appservice/registration";
import { HomeserverClient } from "../appservice/homeserverClient";
import { secretsEqual } from "../appservice/hsTokenAuth";
import { explainPingFailure } from "../appservice/ping";
import { DIALECT_NAMES, openDatabase } from "../store/database";
import { say } from "./output";
import { checkEncryptionFeeds } from "../crypto/doctorCheck";

interface Check {
  name: string;
  /** A line of findings; `warn` marks something to look at that is not a setup problem. */
  run(): Promise<string | { text: string; warn: true }>;
}

/**
 * Runs every check it can and explains each failure with what to fix. Later checks that
 * need an earlier result (the registration, the config) are skipped with a reason.
 */
export async function runDoctor(configPath: string): Promise<number> {
  configureLogging({ level: "silent", format: "json" });
  let config: BridgeConfig | undefined;
  let registration: Registration | undefined;
  let parked: { n: number; oldest?: Date } | "no tables" | undefined;
  let envWarnings: string[] = [];
  const checks: Check[] = [
    {
      name: "config",
      run: async () => {
        const checked = loadCheckedConfig(configPath);
        config = checked.config;
        envWarnings = checked.warnings;
        const { agents } = checked;
        return `${configPath} is valid; agents: ${agents.map((a) => a.userId).join(", ") || "none enabled"}`;
      },
    },
    {
      name: "environment",
      run: async () => {
        need(config, "config");
        if (!envWarnings.length) return "no unknown MAB_ variables";
        return { text: envWarnings.join("\n"), warn: true };
      },
    },
    {
      name: "registration",
      run: async () => {
        const cfg = need(config, "config");
        registration = readRegistration(cfg.appservice.registration);
        const agents = resolveAgents(cfg, AGENT_DEFINITIONS);
        const problems = registrationProblems(
          cfg,
          registration,
          agents.map((a) => a.userId),
        );
        if (problems.length) {
          throw new BridgeError(
            "REGISTRATION_MISMATCH",
            problems.join("; "),
            "Regenerate it with generate-registration",
          );
        }
        return `${cfg.appservice.registration} matches the config`;
      },
    },
    {
      name: "database",
      run: async () => {
        const cfg = need(config, "config");
        const db = await openDatabase(cfg.database);
        try {
          await db.knex.raw("select 1");
          parked = await parkedSummary(db.knex);
        } finally {
          await db.close();
        }
        return db.dialect === "postgres"
          ? "PostgreSQL reachable"
          : `${DIALECT_NAMES[db.dialect]} database in ${cfg.database.data_dir}`;
      },
    },
    {
      name: "parked messages",
      run: async () => {
        const p = need(parked, "database");
        if (p === "no tables") return "none (the bridge creates its tables on first start)";
        if (p.n === 0) return "none";
        const age = p.oldest ? `, oldest since ${p.oldest.toISOString()}` : "";
        return {
          text: `${p.n} message(s) could not be delivered${age}\n→ \`matrix-agent-bridge parked\` lists them; \`retry\` or \`discard\` them`,
          warn: true,
        };
      },
    },
    {
      name: "homeserver reachable",
      run: async () => {
        const cfg = need(config, "config");
        const client = new HomeserverClient(cfg.homeserver.url, "");
        const res = await client.request<{ versions: string[] }>("GET", "/_matrix/client/versions", {
          timeoutMs: 10_000,
        });
        return `${cfg.homeserver.url} answers (spec ${res.versions.at(-1)})`;
      },
    },
    {
      name: "as_token accepted",
      run: async () => {
        const cfg = need(config, "config");
        const reg = need(registration, "registration");
        const client = new HomeserverClient(cfg.homeserver.url, reg.as_token);
        const who = await client.request<{ user_id: string }>("GET", "/_matrix/client/v3/account/whoami");
        if (who.user_id !== botUserId(cfg)) {
          throw new BridgeError(
            "REGISTRATION_MISMATCH",
            `the as_token belongs to ${who.user_id}, not ${botUserId(cfg)}`,
          );
        }
        return `the homeserver knows the bridge as ${who.user_id}`;
      },
    },
    {
      name: "homeserver reaches the bridge (ping)",
      run: async () => {
        const cfg = need(config, "config");
        const reg = need(registration, "registration");
        const listener = await listenForPing(cfg, reg.hs_token);
        try {
          const client = new HomeserverClient(cfg.homeserver.url, reg.as_token);
          const res = await client.ping(cfg.appservice.id, "mab-doctor").catch((err) => {
            throw explainPingFailure(err, cfg);
          });
          return `round trip ${res.duration_ms} ms to ${cfg.appservice.url}${listener ? "" : " (the running bridge answered)"}`;
        } finally {
          await new Promise((r) => (listener ? listener.close(r) : r(undefined)));
        }
      },
    },
    {
      name: "encryption feeds",
      run: async () => {
        return checkEncryptionFeeds(need(config, "config"), need(registration, "registration"));
      },
    },
  ];

  let failures = 0;
  // A check that cannot run because an earlier one failed is listed once, not once per line.
  const skipped = new Map<string, string[]>();
  for (const check of checks) {
    try {
      const result = await check.run();
      if (typeof result === "string") say(`✔ ${check.name}: ${result}`);
      else say(`⚠ ${check.name}: ${result.text.replace(/\n/g, "\n    ")}`);
    } catch (err) {
      if (err instanceof BridgeError && err.code === "SKIPPED") {
        skipped.set(err.message, [...(skipped.get(err.message) ?? []), check.name]);
        continue;
      }
      failures++;
      const text = err instanceof BridgeError ? err.explain() : errorMessage(err);
      say(`✘ ${check.name}: ${text.replace(/\n/g, "\n    ")}`);
    }
  }
  for (const [reason, names] of skipped) say(`– ${reason}: ${names.join(", ")}`);
  say(failures ? `\n${failures} problem(s) found.` : "\nEverything looks right.");
  return failures ? 1 : 0;
}

/** Parked (undeliverable) outbox rows, read straight from the database. */
async function parkedSummary(knex: Knex): Promise<{ n: number; oldest?: Date } | "no tables"> {
  if (!(await knex.schema.hasTable("outbox"))) return "no tables";
  const row = (await knex("outbox")
    .where({ status: "failed" })
    .select(knex.raw("CAST(count(*) AS integer) as n"), knex.raw("min(created_at) as oldest"))
    .first()) as { n: number; oldest: Date | string | null };
  return { n: Number(row.n), oldest: row.oldest ? new Date(row.oldest) : undefined };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new BridgeError("SKIPPED", `skipped, they need a valid ${what}`);
  return value;
}

/**
 * While the bridge is not running, answer the homeserver's ping ourselves on the bridge's
 * address. If the port is taken (the bridge runs), the running bridge answers instead.
 */
async function listenForPing(config: BridgeConfig, hsToken: string): Promise<Server | undefined> {
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    const ok = auth.startsWith("Bearer ") && secretsEqual(auth.slice(7), hsToken);
    res.writeHead(ok ? 200 : 403, { "Content-Type": "application/json" });
    res.end(ok ? "{}" : '{"errcode":"M_FORBIDDEN"}');
  });
  return new Promise((resolve) => {
    server.once("error", () => resolve(undefined));
    server.listen(config.appservice.port, config.appservice.bind_address, () => resolve(server));
  });
}
