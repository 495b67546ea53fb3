import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { faultPoint } from "../faultPoints";
import { backoffDelay, isTransientError } from "../queue/retryPolicy";
import type { Inbox } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";
import { handleBatch, type BatchItem, type EventHandlers } from "./eventBatch";
import type { PipelineObserver, PipelineOptions } from "./eventPipeline";

const log = moduleLogger("appservice/pipeline");

const MAX_NEED_ROUNDS = 5;

/** What a room's batches need from the pipeline that owns the queues. */
export interface BatchControl {
  knex: Knex;
  inbox: Inbox;
  handlers: EventHandlers;
  observer: PipelineObserver;
  opts: PipelineOptions;
  afterCommit(): void;
  stopped(): boolean;
  isQueued(eventId: string): boolean;
  /** Sleeps, or less if the pipeline stops. */
  sleep(ms: number): Promise<void>;
}

/**
 * One step of a room's queue: prepare the events at its head, handle them in one transaction
 * (handleBatch), and decide what is done. Transient failures are retried with backoff for
 * `retryForMs`, then recorded as failures; a handler that needed the homeserver gets its fetch
 * (outside any transaction) and runs again.
 */
export class RoomBatches {
  /** Transient failures per event: since when, and how many attempts. */
  private readonly failures = new Map<string, { since: number; attempts: number }>();
  /** How often an event's handler asked for a homeserver fetch (see NeedsHomeserver). */
  private readonly needRounds = new Map<string, number>();

  constructor(private readonly ctl: BatchControl) {}

  /** The event left the queue (done): forget its attempts. */
  forget(eventId: string): void {
    this.failures.delete(eventId);
    this.needRounds.delete(eventId);
  }

  /**
   * Prepares and handles the head of a room's queue; returns how many events of `head` are done
   * (handled, failed for good, or handled by someone else). 0 means: try the head again.
   */
  async run(head: MatrixEvent[]): Promise<number> {
    const started = Date.now();
    const prepared = await this.prepareAll(head, started);
    if (typeof prepared === "number") return prepared;
    let items = prepared;
    let earlier: MatrixEvent[] = [];
    let result;
    try {
      // Several processes on one database: the batch is taken only if no earlier event of the
      // room is claimed outside it (one statement); otherwise those earlier events join it first.
      const shared = this.ctl.opts.orderAcrossProcesses;
      result = await handleBatch(this.ctl.knex, this.ctl.inbox, this.ctl.handlers, items, {
        onlyIfFirstInRoom: shared,
      });
      if (result.notFirst) {
        earlier = await this.earlierUnhandled(head[0]);
        const before = await this.prepareAll(earlier, started, true);
        // Stopping, or an earlier event could not be prepared: none of the head may go before it.
        if (typeof before === "number" || this.ctl.stopped()) return 0;
        items = [...before, ...items];
        result = await handleBatch(this.ctl.knex, this.ctl.inbox, this.ctl.handlers, items);
      }
    } catch (err) {
      const first = items[0].event;
      return (await this.attemptFailed(first, err, started)) && !earlier.includes(first) ? 1 : 0;
    }
    const ms = Date.now() - started;
    for (const e of result.ok) this.ctl.observer.handled?.(e, "ok", ms);
    for (const { event } of result.failed) this.ctl.observer.handled?.(event, "failed", ms);
    for (const e of result.skipped) this.ctl.observer.handled?.(e, "skipped", ms);
    for (const e of result.ok) {
      if (earlier.includes(e))
        log.info({ eventId: e.event_id }, "Handled an earlier event of the room first");
    }
    if (result.ok.length) this.ctl.afterCommit();
    const finished = countHead(head, result);
    if (result.needs) {
      const { event, need } = result.needs;
      const atHead = head[finished]?.event_id === event.event_id;
      const rounds = (this.needRounds.get(event.event_id) ?? 0) + 1;
      this.needRounds.set(event.event_id, rounds);
      try {
        // A handler that still misses after a few fetches would loop: record it as failed.
        if (rounds > MAX_NEED_ROUNDS)
          throw new Error(`still ${need.message} after ${MAX_NEED_ROUNDS} fetches`);
        await need.fetch();
      } catch (err) {
        this.needRounds.delete(event.event_id);
        return finished + (await this.attemptFailed(event, err, started, atHead));
      }
    }
    return finished;
  }

  /**
   * Prepares events in order (the only step that may call the homeserver). Returns the prepared
   * ones up to the first that failed (that one heads the next batch), or, when the first fails,
   * how many events of the head are done (0: try again).
   */
  private async prepareAll(
    events: MatrixEvent[],
    started: number,
    earlier = false,
  ): Promise<BatchItem[] | number> {
    const items: BatchItem[] = [];
    for (const event of events) {
      if (this.ctl.stopped()) break;
      faultPoint("before-handle");
      try {
        items.push({ event, prepared: await this.ctl.handlers.prepare?.(event) });
      } catch (err) {
        if (items.length && !earlier) break; // handle what is prepared; this one heads the next batch
        const done = await this.attemptFailed(event, err, started);
        return earlier ? 0 : done;
      }
    }
    return items.length || earlier ? items : 0;
  }

  /** Earlier unhandled events of the room that are not queued here (another process's, or stranded). */
  private async earlierUnhandled(first: MatrixEvent): Promise<MatrixEvent[]> {
    if (!first.room_id) return [];
    const rows = await this.ctl.inbox.unhandledBefore(first.room_id, first.event_id);
    return rows.filter((r) => !this.ctl.isQueued(r.eventId)).map((r) => r.payload as unknown as MatrixEvent);
  }

  /**
   * A failure of `event` outside its handler's savepoint (preparing it, or the whole batch's
   * transaction). Transient ones are retried with backoff for `retryForMs`; then, or for any other
   * failure, the event is recorded as failed. Returns 1 when the event is done, 0 to retry it.
   */
  private async attemptFailed(
    event: MatrixEvent,
    err: unknown,
    started: number,
    isHead = true,
  ): Promise<number> {
    const transient = isTransientError(err);
    const state = this.failures.get(event.event_id) ?? { since: started, attempts: 0 };
    this.failures.set(event.event_id, state);
    if (transient && Date.now() - state.since < this.ctl.opts.retryForMs && !this.ctl.stopped()) {
      const delayMs = backoffDelay(state.attempts++, this.ctl.opts.retry);
      log.warn(
        {
          eventId: event.event_id,
          roomId: event.room_id,
          attempt: state.attempts,
          delayMs,
          err: errorMessage(err),
        },
        "Event handling failed for a reason that may pass; will retry",
      );
      this.ctl.observer.retried?.(event, errorMessage(err), delayMs);
      await this.ctl.sleep(delayMs);
      return 0;
    }
    this.failures.delete(event.event_id);
    await this.recordFailure(event, err, transient, state.since);
    return isHead ? 1 : 0;
  }

  private async recordFailure(event: MatrixEvent, err: unknown, transient: boolean, started: number) {
    // The handler's effects rolled back. Agent errors never get here (the agent host contains them).
    log.error(
      { eventId: event.event_id, roomId: event.room_id, err: errorMessage(err) },
      "Event handling failed",
    );
    try {
      await this.ctl.inbox.markFailed(this.ctl.knex, event.event_id, errorMessage(err));
      this.ctl.observer.handled?.(event, "failed", Date.now() - started);
    } catch (markErr) {
      // Most likely the database is down: the event stays claimed and a later sweep (or the next
      // start) tries it again.
      log.error(
        { eventId: event.event_id, transient, err: errorMessage(markErr) },
        "Could not record the failure; the event stays claimed and will be tried again",
      );
    }
  }
}

/** How many events at the start of `head` the batch finished (in order, stopping at the first not finished). */
function countHead(
  head: MatrixEvent[],
  result: { ok: MatrixEvent[]; failed: { event: MatrixEvent }[]; skipped: MatrixEvent[] },
): number {
  const finished = new Set([
    ...result.ok.map((e) => e.event_id),
    ...result.failed.map((f) => f.event.event_id),
    ...result.skipped.map((e) => e.event_id),
  ]);
  let n = 0;
  while (n < head.length && finished.has(head[n].event_id)) n++;
  return n;
}
