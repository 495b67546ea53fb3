import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { Inbox } from "./inbox";
import type { Outbox } from "./outbox";

const log = moduleLogger("store/pruner");

export interface PrunerOptions {
  /** Handled and failed inbound events older than this are deleted (database.event_retention_days). */
  eventRetentionDays: number;
  /** Sent outbox rows older than this are deleted. */
  sentRetentionDays: number;
  /** Parked (failed) outbox rows older than this are deleted; 0 keeps them until an operator acts. */
  failedRetentionDays: number;
  intervalMs: number;
  /** Delay of the first run after start. */
  firstRunMs?: number;
}

export interface PruneReport {
  events: number;
  sent: number;
  failed: number;
}

/**
 * Deletes old rows in the background: inbound events that were handled (their ids only guard
 * against replays, which the homeserver makes within minutes) and delivered or parked outbox
 * rows. Claimed events and pending messages are never touched. Several processes may prune the
 * same database; the deletes are idempotent.
 */
export class Pruner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<PruneReport | undefined>;

  constructor(
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly opts: PrunerOptions,
    private readonly onPruned: (report: PruneReport) => void = () => undefined,
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.runOnce().catch((err) => {
        log.warn({ err: errorMessage(err) }, "Pruning failed; will try again later");
        return undefined;
      });
      this.timer = setTimeout(tick, this.opts.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.opts.firstRunMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async runOnce(): Promise<PruneReport> {
    const started = Date.now();
    const events = await this.inbox.prune(this.opts.eventRetentionDays);
    const { sent, failed } = await this.outbox.prune(
      this.opts.sentRetentionDays,
      this.opts.failedRetentionDays > 0 ? this.opts.failedRetentionDays : null,
    );
    const report = { events, sent, failed };
    this.onPruned(report);
    if (events + sent + failed > 0) log.info({ ...report, ms: Date.now() - started }, "Pruned old rows");
    return report;
  }
}
