import { transactionWithPrefetch } from "../store/transactionScope";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { ScheduleStore, ScheduledItem } from "../store/scheduleStore";

const log = moduleLogger("scheduler");

/**
 * Longest single wait. Node's timers overflow past 2^31-1 ms (24.8 days) and fire at once,
 * which is how other timer bots lose long timers; we never wait more than this, and re-read
 * the earliest due time each time we wake.
 */
export const MAX_WAIT_MS = 60_000;

export type DueHandler = (
  item: ScheduledItem,
  trx: Knex.Transaction,
) => Promise<"done" | { repeatAt: Date; payload?: Record<string, unknown> }>;

/**
 * One loop that sleeps until the earliest due item, then fires due items one transaction
 * each: claim (FOR UPDATE SKIP LOCKED), run the agent, write its messages to the outbox and
 * mark the item done or rescheduled, all committed together.
 */
export class SchedulerDispatcher {
  private running = false;
  /** Set by stop(): a pass in progress ends after the item being fired (the rest stays due). */
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly knex: Knex,
    private readonly store: ScheduleStore,
    private readonly agentIds: readonly string[],
    private readonly onDue: DueHandler,
    private readonly afterCommit: () => void,
  ) {}

  start(): void {
    if (this.running || this.agentIds.length === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was scheduled: re-read the earliest due time. */
  kick(): void {
    this.wake?.();
  }

  /**
   * Stops after the item being fired commits (at most one agent's handling), however many are due
   * and wherever the loop is: mid-pass, or asleep until the next due time.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.kick();
    await this.loop;
  }

  /** Fires everything due now; returns how many fired (also used by tests). */
  async fireDue(now = new Date()): Promise<number> {
    let fired = 0;
    while (!this.stopping) {
      const outcome = await this.fireOne(now);
      if (outcome === "none") break;
      if (outcome === "fired") {
        fired++;
        // Wake the outbox now, so the first of a burst does not wait for the last.
        this.afterCommit();
      }
    }
    return fired;
  }

  private async fireOne(now: Date): Promise<"none" | "fired" | "failed"> {
    let claimedId: string | undefined;
    try {
      // Re-run after fetching when the agent needed the homeserver (a DM to open, power levels).
      return await transactionWithPrefetch(this.knex, async (trx) => {
        const item = await this.store.claimDue(trx, this.agentIds, now);
        if (!item) return "none";
        claimedId = item.id;
        const result = await this.onDue(item, trx);
        if (result === "done") await this.store.complete(trx, item.id);
        else await this.store.repeat(trx, item.id, result.repeatAt, result.payload);
        return "fired";
      });
    } catch (err) {
      if (!claimedId) throw err;
      // The agent's effects rolled back; park the item so it cannot fail in a loop.
      log.error({ itemId: claimedId, err: errorMessage(err) }, "Scheduled item failed");
      await this.store.fail(this.knex, claimedId, errorMessage(err));
      return "failed";
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let waitMs = MAX_WAIT_MS;
      try {
        await this.fireDue(new Date());
        const next = await this.store.nextDueAt(this.agentIds);
        if (next) waitMs = Math.min(MAX_WAIT_MS, Math.max(0, next.getTime() - Date.now()));
      } catch (err) {
        log.error({ err: errorMessage(err) }, "Scheduler pass failed; retrying shortly");
        waitMs = 1_000;
      }
      if (!this.running) break; // stop() came during the pass: do not start a sleep
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
    }
  }
}
