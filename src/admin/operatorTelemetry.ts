import type { Knex } from "knex";
import type { OperatorMetrics } from "./operatorMetrics";
import { CommandWindow } from "./commandWindow";
import { ParkedMessages } from "./parkedMessages";
import type { CommandOutcome } from "../appservice/agentHost";
import type { ScheduledItem } from "../store/scheduleStore";
import { dbNow } from "../store/sqlDialect";

/**
 * Feeds the operator metrics and the figures `status` shows from the bridge's hooks, so the
 * composition root only forwards calls.
 */
export class OperatorTelemetry {
  readonly commands: CommandWindow;
  /** Firings already measured (a firing re-runs when it needed the homeserver first). */
  private readonly measured = new Set<string>();

  constructor(
    private readonly metrics: OperatorMetrics,
    now: () => number = Date.now,
  ) {
    this.commands = new CommandWindow(now);
  }

  commandFinished(agentId: string, outcome: CommandOutcome | "paused", ms: number): void {
    this.metrics.agentCommands.inc({ agent: agentId, outcome });
    this.metrics.agentCommandSeconds.observe({ agent: agentId }, ms / 1000);
    if (outcome === "rate_limited") this.metrics.rateLimited.inc({ agent: agentId });
    this.commands.record(agentId);
  }

  agentFailed(agentId: string): void {
    this.metrics.agentFailures.inc({ agent: agentId });
  }

  /** A scheduled item is being fired at `now`. */
  firing(item: ScheduledItem, now: Date): void {
    const key = `${item.id}:${item.firedCount}`;
    if (this.measured.has(key)) return;
    if (this.measured.size > 10_000) this.measured.clear();
    this.measured.add(key);
    const lateSeconds = Math.max(0, (now.getTime() - item.dueAt.getTime()) / 1000);
    this.metrics.schedulerLateness.observe({ agent: item.agentId }, lateSeconds);
  }

  setPaused(agentIds: readonly string[], paused: ReadonlySet<string>): void {
    for (const id of agentIds) this.metrics.agentPaused.set({ agent: id }, paused.has(id) ? 1 : 0);
  }

  /** Gauges read from the database (and one homeserver check) when Prometheus scrapes. */
  async refresh(knex: Knex, homeserverUp: () => Promise<boolean>): Promise<void> {
    const byReason = await new ParkedMessages(knex).countByReason();
    this.metrics.parkedByReason.reset();
    for (const [reason, n] of byReason) this.metrics.parkedByReason.set({ reason }, n);
    const row = (await knex("scheduled_items")
      .where({ status: "pending" })
      .select(
        knex.raw("CAST(count(*) AS integer) as pending"),
        knex.raw("CAST(count(*) filter (where due_at <= ?) AS integer) as due", [dbNow(knex)]),
      )
      .first()) as { pending: number; due: number };
    this.metrics.schedulerPending.set(Number(row.pending));
    this.metrics.schedulerDue.set(Number(row.due));
    this.metrics.homeserverUp.set((await homeserverUp()) ? 1 : 0);
  }
}
