import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { bridgeVersion } from "../version";

/**
 * The metrics an operator alerts on (docs/grafana-dashboard.json and docs/prometheus-alerts.yml
 * name them; test/unit/operatorDocs.test.ts checks they exist). Agent labels are agent ids (a
 * handful); reason labels are bounded codes (see parkReason).
 */
export function createOperatorMetrics(registry: Registry) {
  const registers = [registry];
  const buildInfo = new Gauge({
    name: "mab_build_info",
    help: "Always 1; the labels say which version runs on which Node.js",
    labelNames: ["version", "node"],
    registers,
  });
  buildInfo.set({ version: bridgeVersion(), node: process.versions.node }, 1);
  return {
    agentCommands: new Counter({
      name: "mab_agent_commands_total",
      help: "Commands handled per agent, by outcome (ok, user_error, failed, rate_limited, paused)",
      labelNames: ["agent", "outcome"],
      registers,
    }),
    agentCommandSeconds: new Histogram({
      name: "mab_agent_command_seconds",
      help: "Time an agent took to handle one command (inside the event's transaction)",
      labelNames: ["agent"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    agentFailures: new Counter({
      name: "mab_agent_failures_total",
      help: "Agent failures answered with a reference id (the id is in the error log line)",
      labelNames: ["agent"],
      registers,
    }),
    rateLimited: new Counter({
      name: "mab_commands_rate_limited_total",
      help: "Commands skipped because their sender was over bridge.command_rate_per_minute",
      labelNames: ["agent"],
      registers,
    }),
    schedulerLateness: new Histogram({
      name: "mab_scheduler_lateness_seconds",
      help: "How late scheduled items fired (now - due time), per agent",
      labelNames: ["agent"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
      registers,
    }),
    schedulerDue: new Gauge({
      name: "mab_scheduler_items_due",
      help: "Scheduled items whose time has come and that have not fired yet",
      registers,
    }),
    schedulerPending: new Gauge({
      name: "mab_scheduler_items_pending",
      help: "Scheduled items waiting for their time",
      registers,
    }),
    parkedByReason: new Gauge({
      name: "mab_outbox_parked_by_reason",
      help: "Parked (undeliverable) outbox rows now, by reason (the Matrix errcode of a refusal, server_errors, other)",
      labelNames: ["reason"],
      registers,
    }),
    homeserverUp: new Gauge({
      name: "mab_homeserver_up",
      help: "1 when the homeserver answered the last check (at each scrape), else 0",
      registers,
    }),
    agentPaused: new Gauge({
      name: "mab_agent_paused",
      help: "1 for an agent a bridge admin paused",
      labelNames: ["agent"],
      registers,
    }),
    buildInfo,
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
