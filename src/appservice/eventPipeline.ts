import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { faultPoint } from "../faultPoints";
import { backoffDelay, isTransientError } from "../queue/retryPolicy";
import type { Inbox, InboundEvent } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";

const log = moduleLogger("appservice/pipeline");

export type EventHandler = (event: MatrixEvent, trx: Knex.Transaction) => Promise<void>;

/** ok: handled now; failed: recorded as failed; skipped: someone else had handled it already. */
export type HandleOutcome = "ok" | "failed" | "skipped";

export interface PipelineObserver {
  received?(count: number, claimed: number): void;
  handled?(event: MatrixEvent, outcome: HandleOutcome, ms: number): void;
  /** A transient failure (homeserver or database unavailable); the event will be tried again. */
  retried?(event: MatrixEvent, reason: string, delayMs: number): void;
}

export interface PipelineOptions {
  /** Events held in memory; beyond this, claimed events wait in the database (backlog mode). */
  maxQueued: number;
  /** How often to look for claimed events nobody is handling (a crash, a failed enqueue). */
  sweepIntervalMs: number;
  /** A claim is "stranded" when it is older than this and not queued here. */
  staleClaimMs: number;
  /** Backoff between attempts at an event that failed transiently. */
  retry: { baseMs: number; maxMs: number };
  /** After this long, a transient failure is recorded as a failure (or left claimed if the database is down). */
  retryForMs: number;
  /**
   * Before an event, handle earlier unhandled events of its room that are not queued here (claimed
   * by another process, or stranded). Needed only when several processes share the database.
   */
  orderAcrossProcesses: boolean;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  maxQueued: 5000,
  sweepIntervalMs: 60_000,
  staleClaimMs: 60_000,
  retry: { baseMs: 500, maxMs: 30_000 },
  retryForMs: 120_000,
  orderAcrossProcesses: false,
};

const PAGE = 500;

/**
 * Exactly-once handling of incoming events.
 *
 * 1. `receive` claims a transaction's events in one atomic INSERT … ON CONFLICT DO NOTHING before
 *    the homeserver gets its 200; replays and duplicates claim nothing and do nothing.
 * 2. Each claimed event runs in its own database transaction that first locks the event's row and
 *    checks it is still unhandled, and ends by marking it handled: its effects (agent writes,
 *    outbox rows) commit together with that mark or not at all, and a second handler (another
 *    process, a recovery pass) finds it handled and does nothing.
 * 3. Events of one room run in order (earlier unhandled events of the room, even ones another
 *    process claimed, are handled first); different rooms run concurrently.
 * 4. `recover` (at start) and a periodic sweep handle what was claimed but not handled: events of
 *    a process that died, and everything claimed while the in-memory queue was full. Until
 *    `recover` runs, received events are only claimed, so nothing runs before the agents start.
 */
export class EventPipeline {
  private readonly roomTails = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly queued = new Set<string>();
  /**
   * paused: claim only (before start). direct: claim, then queue in memory. backlog: claim only;
   * a drain loop reads claimed events from the database in order. stopped: claim only, for good.
   */
  private mode: "paused" | "direct" | "backlog" | "stopped" = "paused";
  private receiving = 0;
  private draining?: Promise<number>;
  private sweepTimer?: NodeJS.Timeout;
  private readonly opts: PipelineOptions;
  private wakeSleepers = new Set<() => void>();

  constructor(
    private readonly knex: Knex,
    private readonly inbox: Inbox,
    private readonly handler: EventHandler,
    private readonly afterCommit: () => void,
    private readonly observer: PipelineObserver = {},
    opts: Partial<PipelineOptions> = {},
  ) {
    this.opts = { ...DEFAULT_PIPELINE_OPTIONS, ...opts };
  }

  /** Resolves once the events are durably claimed (the caller may then answer 200). */
  async receive(events: MatrixEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.receiving++;
    try {
      const claimed = await this.inbox.claim(events as unknown as InboundEvent[]);
      this.observer.received?.(events.length, claimed.length);
      faultPoint("after-claim");
      if (claimed.length === 0 || this.mode !== "direct") return; // the drain picks them up
      if (this.queued.size + claimed.length > this.opts.maxQueued) {
        log.warn({ queued: this.queued.size }, "Event queue full; newer events wait in the database");
        this.startDrain();
        return;
      }
      const byId = new Map(events.map((e) => [e.event_id, e]));
      for (const id of claimed) this.enqueue(byId.get(id)!);
    } finally {
      this.receiving--;
    }
  }

  /**
   * Starts handling: first everything already claimed (left over by a previous run, or received
   * during start-up), in claim order, then new events as they arrive. Resolves when the backlog is
   * handled; returns how many events it held.
   */
  async recover(): Promise<number> {
    if (this.mode === "stopped") return 0;
    if (this.mode === "paused") this.mode = "backlog";
    const total = await (this.draining ?? this.drainBacklog());
    if (total) log.info({ count: total }, "Queued events left over from the previous run");
    this.sweepTimer ??= setInterval(() => void this.sweep(), this.opts.sweepIntervalMs);
    this.sweepTimer.unref();
    return total;
  }

  /** Resolves when every claim in progress has finished and every queued event has been handled. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.draining) await this.draining.catch(() => undefined);
      if (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
      else if (this.receiving) await sleep(10);
      else if (!this.draining) return;
    }
  }

  /**
   * Stops handling: events not yet started stay claimed in the database (the next start handles
   * them); those running get up to `graceMs` to commit. Claims still succeed until the HTTP server
   * closes, so nothing the homeserver was told is recorded can be lost.
   */
  async stop(graceMs: number): Promise<void> {
    this.mode = "stopped";
    clearInterval(this.sweepTimer);
    for (const wake of this.wakeSleepers) wake();
    const all = Promise.allSettled([...this.inFlight, ...(this.draining ? [this.draining] : [])]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) log.warn({ running: this.inFlight.size }, "Stopped before every running event committed");
  }

  private get stopped(): boolean {
    return this.mode === "stopped";
  }

  /** Events in memory waiting or running (for metrics). */
  get queuedCount(): number {
    return this.queued.size;
  }

  private startDrain(): void {
    if (this.mode === "stopped") return;
    this.mode = "backlog";
    if (!this.draining) void this.drainBacklog();
  }

  /**
   * Reads claimed events from the database in claim order and queues them, a page at a time and
   * only while the in-memory queue has room; when a page comes back empty everything claimed is
   * queued and new events are queued directly again. Events claimed while we read are either in a
   * page or queued by `receive` after the switch, so none is left behind.
   */
  private drainBacklog(): Promise<number> {
    const run = async (): Promise<number> => {
      let cursor = 0;
      let total = 0;
      const pageSize = Math.max(1, Math.min(PAGE, this.opts.maxQueued));
      while (this.mode === "backlog") {
        while (this.queued.size + pageSize > this.opts.maxQueued && this.mode === "backlog") await sleep(20);
        let page;
        try {
          page = await this.inbox.unhandled(pageSize, cursor);
        } catch (err) {
          log.error({ err: errorMessage(err) }, "Could not read claimed events; will retry");
          await this.sleepUnlessStopped(1000);
          continue;
        }
        if (page.length === 0) {
          this.mode = "direct";
          break;
        }
        cursor = page[page.length - 1].seq;
        for (const stored of page) {
          if (this.queued.has(stored.eventId)) continue;
          this.enqueue(stored.payload as unknown as MatrixEvent);
          total++;
        }
      }
      return total;
    };
    const draining = run().finally(() => {
      if (this.draining === draining) this.draining = undefined;
    });
    this.draining = draining;
    return draining;
  }

  /** Finds claims nobody is handling (older than staleClaimMs, not queued here) and drains them. */
  private async sweep(): Promise<void> {
    if (this.mode !== "direct") return;
    try {
      const stale = await this.inbox.staleClaims(this.opts.staleClaimMs);
      const stranded = stale.filter((id) => !this.queued.has(id));
      if (stranded.length) {
        log.warn({ count: stranded.length }, "Found claimed events nobody is handling; handling them now");
        this.startDrain();
      }
    } catch (err) {
      log.warn({ err: errorMessage(err) }, "Sweep for stranded events failed");
    }
  }

  private enqueue(event: MatrixEvent): void {
    if (this.queued.has(event.event_id)) return;
    const roomKey = event.room_id ?? "";
    this.queued.add(event.event_id);
    const previous = this.roomTails.get(roomKey) ?? Promise.resolve();
    const run = previous.then(() => this.process(event));
    const tail = run.finally(() => {
      this.queued.delete(event.event_id);
      this.inFlight.delete(tail);
      if (this.roomTails.get(roomKey) === tail) this.roomTails.delete(roomKey);
    });
    this.roomTails.set(roomKey, tail);
    this.inFlight.add(tail);
  }

  private async process(event: MatrixEvent): Promise<void> {
    if (this.mode === "stopped") return; // stays claimed; the next start handles it
    faultPoint("before-handle");
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.handleInOrder(event);
        this.observer.handled?.(event, outcome, Date.now() - started);
        return;
      } catch (err) {
        const transient = isTransientError(err);
        const elapsed = Date.now() - started;
        if (transient && elapsed < this.opts.retryForMs && !this.stopped) {
          const delayMs = backoffDelay(attempt, this.opts.retry);
          log.warn(
            { eventId: event.event_id, roomId: event.room_id, attempt, delayMs, err: errorMessage(err) },
            "Event handling failed for a reason that may pass; will retry",
          );
          this.observer.retried?.(event, errorMessage(err), delayMs);
          await this.sleepUnlessStopped(delayMs);
          if (this.stopped) return;
          continue;
        }
        await this.recordFailure(event, err, transient, started);
        return;
      }
    }
  }

  /** With orderAcrossProcesses, handles earlier unhandled events of the room first. */
  private async handleInOrder(event: MatrixEvent): Promise<HandleOutcome> {
    if (this.opts.orderAcrossProcesses && event.room_id) {
      for (const earlier of await this.inbox.unhandledBefore(event.room_id, event.event_id)) {
        if (this.queued.has(earlier.eventId)) continue; // ours, already being handled in order
        const earlierEvent = earlier.payload as unknown as MatrixEvent;
        const started = Date.now();
        try {
          const outcome = await this.handleOne(earlierEvent);
          if (outcome === "ok")
            log.info({ eventId: earlier.eventId }, "Handled an earlier event of the room first");
          this.observer.handled?.(earlierEvent, outcome, Date.now() - started);
        } catch (err) {
          if (isTransientError(err)) throw err; // try both again later, in order
          await this.recordFailure(earlierEvent, err, false, started);
        }
      }
    }
    return this.handleOne(event);
  }

  private async handleOne(event: MatrixEvent): Promise<HandleOutcome> {
    const outcome = await this.knex.transaction(async (trx): Promise<HandleOutcome> => {
      const row = await this.inbox.lockForHandling(trx, event.event_id);
      if (!row || row.status !== "claimed") return "skipped";
      await this.handler(event, trx);
      await this.inbox.markHandled(trx, event.event_id);
      return "ok";
    });
    if (outcome === "ok") {
      faultPoint("after-handle");
      this.afterCommit();
    }
    return outcome;
  }

  private async recordFailure(event: MatrixEvent, err: unknown, transient: boolean, started: number) {
    // The handler's effects rolled back. Agent errors never get here (the agent host contains them).
    log.error(
      { eventId: event.event_id, roomId: event.room_id, err: errorMessage(err) },
      "Event handling failed",
    );
    try {
      await this.inbox.markFailed(this.knex, event.event_id, errorMessage(err));
      this.observer.handled?.(event, "failed", Date.now() - started);
    } catch (markErr) {
      // Most likely the database is down: the event stays claimed and a later sweep (or the next
      // start) tries it again.
      log.error(
        { eventId: event.event_id, transient, err: errorMessage(markErr) },
        "Could not record the failure; the event stays claimed and will be tried again",
      );
    }
  }

  private sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleepers.add(done);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
