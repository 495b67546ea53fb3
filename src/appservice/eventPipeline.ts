import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { Inbox, InboundEvent } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";

const log = moduleLogger("appservice/pipeline");

export type EventHandler = (event: MatrixEvent, trx: Knex.Transaction) => Promise<void>;

export interface PipelineObserver {
  received?(count: number, claimed: number): void;
  handled?(event: MatrixEvent, ok: boolean, ms: number): void;
}

/**
 * Exactly-once handling of incoming events.
 *
 * 1. `receive` claims a transaction's events in one INSERT … ON CONFLICT DO NOTHING before
 *    the homeserver gets its 200; replays and duplicates claim nothing and do nothing.
 * 2. Each claimed event runs in its own database transaction that also marks it handled,
 *    so its effects (agent writes, outbox rows) commit together with that mark or not at all.
 * 3. `recover` re-runs events that were claimed but not handled when the process died.
 *
 * Events of one room run in order; different rooms run concurrently.
 */
export class EventPipeline {
  private readonly roomTails = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly knex: Knex,
    private readonly inbox: Inbox,
    private readonly handler: EventHandler,
    private readonly afterCommit: () => void,
    private readonly observer: PipelineObserver = {},
  ) {}

  /** Resolves once the events are durably claimed (the caller may then answer 200). */
  async receive(events: MatrixEvent[]): Promise<void> {
    if (events.length === 0) return;
    const claimed = new Set(await this.inbox.claim(events as unknown as InboundEvent[]));
    this.observer.received?.(events.length, claimed.size);
    for (const event of events) {
      if (claimed.has(event.event_id)) {
        claimed.delete(event.event_id); // the same id twice in one batch runs once
        this.enqueue(event);
      }
    }
  }

  /** Handles what a previous run claimed but did not finish. */
  async recover(): Promise<number> {
    let total = 0;
    for (;;) {
      const pending = await this.inbox.unhandled(500);
      const fresh = pending.filter((e) => !this.isQueued(e.eventId));
      if (fresh.length === 0) break;
      for (const event of fresh) this.enqueue(event.payload as unknown as MatrixEvent);
      total += fresh.length;
      await this.idle();
    }
    if (total) log.info({ count: total }, "Handled events left over from the previous run");
    return total;
  }

  /** Resolves when every queued event has been handled. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private readonly queued = new Set<string>();

  private isQueued(eventId: string): boolean {
    return this.queued.has(eventId);
  }

  private enqueue(event: MatrixEvent): void {
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
    const started = Date.now();
    try {
      await this.knex.transaction(async (trx) => {
        await this.handler(event, trx);
        await this.inbox.markHandled(trx, event.event_id);
      });
      this.observer.handled?.(event, true, Date.now() - started);
      this.afterCommit();
    } catch (err) {
      // The handler's effects rolled back. Record the failure so the event is not retried
      // forever; agent errors never get here (the agent host contains them).
      log.error(
        { eventId: event.event_id, roomId: event.room_id, err: errorMessage(err) },
        "Event handling failed",
      );
      this.observer.handled?.(event, false, Date.now() - started);
      await this.inbox.markFailed(this.knex, event.event_id, errorMessage(err)).catch((markErr) => {
        log.error({ eventId: event.event_id, err: errorMessage(markErr) }, "Could not record the failure");
      });
    }
  }
}
