import { Registry } from "prom-client";
import { createOperatorMetrics } from "../../src/admin/operatorMetrics";
import { OperatorTelemetry } from "../../src/admin/operatorTelemetry";
import { CommandWindow } from "../../src/admin/commandWindow";
import { parkReason } from "../../src/admin/parkedMessages";

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const base = name.replace(/_(count|sum)$/, "");
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name || m.name === base);
  const entry = metric?.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? metric.name) === name &&
      Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return entry?.value;
}

describe("operator telemetry", () => {
  it("counts commands per agent by outcome, rate-limited ones and failures", async () => {
    const registry = new Registry();
    const t = new OperatorTelemetry(createOperatorMetrics(registry), () => 0);
    t.commandFinished("faq", "ok", 12);
    t.commandFinished("faq", "ok", 8);
    t.commandFinished("faq", "rate_limited", 0.1);
    t.commandFinished("timer", "failed", 3);
    t.agentFailed("timer");
    expect(await value(registry, "mab_agent_commands_total", { agent: "faq", outcome: "ok" })).toBe(2);
    expect(await value(registry, "mab_commands_rate_limited_total", { agent: "faq" })).toBe(1);
    expect(await value(registry, "mab_agent_failures_total", { agent: "timer" })).toBe(1);
    expect(await value(registry, "mab_agent_command_seconds_count", { agent: "faq" })).toBe(3);
    expect(t.commands.lastHour("faq")).toBe(3);
  });

  it("measures each firing's lateness once, even when the firing re-runs", async () => {
    const registry = new Registry();
    const t = new OperatorTelemetry(createOperatorMetrics(registry));
    const item = { id: "i1", agentId: "reminders", dueAt: new Date(1_000_000), payload: {}, firedCount: 0 };
    t.firing(item, new Date(1_004_000));
    t.firing(item, new Date(1_009_000)); // the same firing after a prefetch
    t.firing({ ...item, firedCount: 1 }, new Date(1_000_100));
    expect(await value(registry, "mab_scheduler_lateness_seconds_count", { agent: "reminders" })).toBe(2);
    expect(await value(registry, "mab_scheduler_lateness_seconds_sum", { agent: "reminders" })).toBeCloseTo(
      4.1,
    );
  });

  it("reports the build", async () => {
    const registry = new Registry();
    createOperatorMetrics(registry);
    expect(await value(registry, "mab_build_info", { node: process.versions.node })).toBe(1);
  });

  it("keeps a sliding hour of commands", () => {
    let now = 0;
    const w = new CommandWindow(() => now);
    w.record("a");
    now = 30 * 60_000;
    w.record("a");
    w.record("b");
    expect(w.lastHour("a")).toBe(2);
    now = 61 * 60_000;
    expect(w.lastHour("a")).toBe(1);
    expect(w.lastHour("b")).toBe(1);
    now = 95 * 60_000;
    expect(w.lastHour("a")).toBe(0);
  });

  it.each([
    ["403 M_FORBIDDEN: User not in room", "M_FORBIDDEN"],
    ["404 M_NOT_FOUND: Unknown room", "M_NOT_FOUND"],
    ["gave up after 10 failed attempts: 502 M_UNKNOWN: bad gateway", "server_errors"],
    ["500 Internal", "server_errors"],
    ["something else", "other"],
    [null, "other"],
  ])("parks %j under reason %s", (error, reason) => {
    expect(parkReason(error)).toBe(reason);
  });
});
