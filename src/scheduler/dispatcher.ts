import { needsHomeserver, takePendingNeed, type NeedsHomeserver } from "../store/transactionScope";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { isTransientError } from "../queue/retryPolicy";
import { inParallelGroup } from "../queue/parallelGroup";
import type { ScheduleStore, ScheduledItem } from "../store/scheduleStore";

const log = moduleLogger("scheduler");

/**
 * Longest single wait. Node's timers overflow past 2^31-1 ms (24.8 days) and fire at once,
 * which is how other timer bots lose long timers; we never wait more than this, and re-read
 * the earliest due time each time we wake.
 */
export const MAX_WAIT_MS = 60_000;

/** Due items fired in one transaction (one commit, one fsync, one outbox wake-up for all). */
export const BURST = 50;

/** How often one item may ask for the homeserver before it is parked (as transactionWithPrefetch). */
const MAX_PREFETCH_ROUNDS = 5;

interface BurstOutcome {
  claimed: number;
  fired: number;
  failed: number;
  need?: { itemId: string; need: NeedsHomeserver };
}

export type DueHandler = (
  item: ScheduledItem,
  trx: Knex.Transaction,
) => Promise<"done" | { repeatAt: Date; payload?: Record<string, unknown> }>;

/**
 * One loop that sleeps until the earliest due item, then fires what is due in bursts: one
 * transaction claims up to BURST items (FOR UPDATE SKIP LOCKED) and runs each in its own savepoint
 * (the agent, its outbox messages, the item marked done or rescheduled); an item that fails is
 * rolled back alone and parked. 30 reminders due at 09:00 commit together, so their sends start
 * together instead of one commit after the other.
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
    const rounds = new Map<string, number>();
    while (!this.stopping) {
      const burst = await this.fireBurst(now);
      fired += burst.fired;
      // Wake the outbox now, before the next burst (or the homeserver fetch) runs.
      if (burst.fired) this.afterCommit();
      if (burst.need) {
        const { itemId, need } = burst.need;
        const round = (rounds.get(itemId) ?? 0) + 1;
        rounds.set(itemId, round);
        if (round > MAX_PREFETCH_ROUNDS) {
          log.error({ itemId, err: need.message }, "Scheduled item failed");
          await this.store.fail(this.knex, itemId, need.message);
        } else {
          // Outside any transaction: the item (and those after it) are claimed again after this.
          await need.fetch();
        }
        continue;
      }
      if (burst.claimed < BURST) break;
    }
    return fired;
  }

  private fireBurst(now: Date): Promise<BurstOutcome> {
    return this.knex.transaction(async (trx) => {
      const items = await this.store.claimDueMany(trx, this.agentIds, now, BURST);
      const out: BurstOutcome = { claimed: items.length, fired: 0, failed: 0 };
      for (const item of items) {
        // stop(): end the burst after the item in hand; the rest stays due for the next start.
        if (this.stopping) break;
        try {
          takePendingNeed();
          await trx.transaction(async (sp) => {
            // The item's messages may be sent alongside other items' (see parallelGroup.ts).
            const result = await inParallelGroup(item.id, () => this.onDue(item, sp));
            // Needed the homeserver but caught it (an agent's try/catch): roll this item back.
            const pending = takePendingNeed();
            if (pending) throw pending;
            if (result === "done") await this.store.complete(sp, item.id);
            else await this.store.repeat(sp, item.id, result.repeatAt, result.payload);
          });
          out.fired++;
        } catch (err) {
          takePendingNeed(); // handled here, with this item's savepoint rolled back
          const need = needsHomeserver(err);
          if (need) {
            out.need = { itemId: item.id, need };
            break; // commit those before it; it and the rest are claimed again after the fetch
          }
          if (isTransientError(err)) throw err;
          // The agent's effects rolled back; park the item so it cannot fail in a loop.
          log.error({ itemId: item.id, err: errorMessage(err) }, "Scheduled item failed");
          await this.store.fail(trx, item.id, errorMessage(err));
          out.failed++;
        }
      }
      return out;
    });
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
