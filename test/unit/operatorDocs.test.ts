import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { createMetrics } from "../../src/metrics";

const docs = join(__dirname, "..", "..", "docs");

/** Every mab_… series a PromQL text names, histogram suffixes mapped to their metric. */
function metricNames(text: string, histograms: Set<string>): string[] {
  return [...text.matchAll(/\bmab_[a-z_]+\b/g)].map(([name]) => {
    const base = name.replace(/_(bucket|sum|count)$/, "");
    return histograms.has(base) ? base : name;
  });
}

describe("operator docs", () => {
  const registry = createMetrics().registry;
  const metrics = registry.getMetricsAsArray();
  const names = new Set(metrics.map((m) => m.name));
  const histograms = new Set(
    metrics.filter((m) => (m as unknown as { type?: string }).type === "histogram").map((m) => m.name),
  );

  it("the Grafana dashboard is valid JSON and names only metrics the bridge exports", () => {
    const dashboard = JSON.parse(readFileSync(join(docs, "grafana-dashboard.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr, histograms)));
    for (const name of used) expect([name, names.has(name)]).toEqual([name, true]);
    for (const needed of [
      "mab_agent_commands_total",
      "mab_agent_command_seconds",
      "mab_agent_failures_total",
      "mab_scheduler_lateness_seconds",
      "mab_commands_rate_limited_total",
      "mab_outbox_parked_by_reason",
      "mab_build_info",
    ]) {
      expect(used).toContain(needed);
    }
  });

  it("the alert rules load as YAML, cover the states that need a human, and name existing metrics", () => {
    const rules = yaml.load(readFileSync(join(docs, "prometheus-alerts.yml"), "utf8")) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    const byName = new Map(all.map((r) => [r.alert, r.expr]));
    expect(byName.get("MabParkedMessages")).toContain("mab_outbox_parked");
    expect(byName.get("MabOldestPendingGrowing")).toContain("mab_outbox_oldest_pending_seconds");
    expect(byName.get("MabHomeserverUnreachable")).toContain("mab_homeserver_up");
    expect(byName.get("MabSchedulerLate")).toContain("mab_scheduler_lateness_seconds");
    for (const name of all.flatMap((r) => metricNames(r.expr, histograms))) {
      expect([name, names.has(name)]).toEqual([name, true]);
    }
  });
});
