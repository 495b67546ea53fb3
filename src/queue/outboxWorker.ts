import PQueue from "p-queue";
import { moduleLogger } from "../logging/logger";
import type { Outbox, OutboxRow } from "../store/outbox";
import type { HomeserverClient } from "../appservice/homeserverClient";
import { classifySendError, type BackoffOptions } from "./retryPolicy";

const log = moduleLogger("queue/outbox");

export interface OutboxWorkerOptions {
  /** Rooms delivered to at the same time; each room is strictly FIFO. */
  concurrency: number;
  backoff: BackoffOptions;
  /** Longest sleep between checks when nothing wakes the worker. */
  idlePollMs: number;
  /** Fixed device of a sending user, so the homeserver persists transaction ids (24 h dedupe). */
  deviceFor?: (userId: string) => string | undefined;
}

export interface DeliveryObserver {
  sent?(row: OutboxRow, eventId: string, latencyMs: number): void;
  retried?(row: OutboxRow, reason: string, delayMs: number): void;
  parked?(row: OutboxRow, reason: string): void;
}

/**
 * Delivers outbox rows. The database is the queue: rows are read a room at a time, so memory
 * stays bounded however many are pending, and a crash loses nothing (a resend reuses the
 * row's id as the transaction id, which the homeserver deduplicates).
 */
export class OutboxWorker {
  private readonly queue: PQueue;
  private readonly activeRooms = new Set<string>();
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly outbox: Outbox,
    private readonly client: HomeserverClient,
    private readonly opts: OutboxWorkerOptions,
    private readonly observer: DeliveryObserver = {},
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New rows were committed: look now rather than at the next poll. */
  kick(): void {
    this.wake?.();
  }

  /** Stops taking new rooms, waits up to graceMs for in-flight sends; the rest stays in the outbox. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.kick();
    await this.loop;
    await Promise.race([this.queue.onIdle(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    this.queue.clear();
  }

  /** Resolves when nothing is pending or in flight (for tests and benchmarks). */
  async drained(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.outbox.pendingCount()) === 0 && this.activeRooms.size === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`Outbox not drained after ${timeoutMs} ms`);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let nextDue: Date | null = null;
      try {
        const rooms = await this.outbox.roomsWithDue(new Date(), this.opts.concurrency * 4);
        for (const roomId of rooms) this.schedule(roomId);
        nextDue = await this.outbox.nextDueAt();
      } catch (err) {
        log.error({ err: (err as Error).message }, "Outbox poll failed; will retry");
      }
      const untilDue = nextDue ? nextDue.getTime() - Date.now() : this.opts.idlePollMs;
      await this.sleep(Math.max(10, Math.min(untilDue, this.opts.idlePollMs)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private schedule(roomId: string): void {
    if (this.activeRooms.has(roomId)) return;
    this.activeRooms.add(roomId);
    void this.queue.add(async () => {
      try {
        await this.drainRoom(roomId);
      } catch (err) {
        log.error({ roomId, err: (err as Error).message }, "Room delivery failed");
      } finally {
        this.activeRooms.delete(roomId);
        // Rows may have arrived while we were busy with this room.
        this.kick();
      }
    });
  }

  private async drainRoom(roomId: string): Promise<void> {
    while (this.running) {
      const row = await this.outbox.headOfRoom(roomId);
      if (!row || row.nextAttemptAt.getTime() > Date.now()) return;
      const started = Date.now();
      try {
        const eventId = await this.deliver(row);
        await this.outbox.markSent(row.id, eventId);
        this.observer.sent?.(row, eventId, Date.now() - started);
      } catch (err) {
        const outcome = classifySendError(err, row.attempts, this.opts.backoff);
        if (outcome.kind === "park") {
          log.warn(
            { roomId, outboxId: row.id, reason: outcome.reason },
            "Outbound message parked: will not retry",
          );
          await this.outbox.markFailed(row.id, outcome.reason);
          this.observer.parked?.(row, outcome.reason);
          continue; // the next message of the room may still go through
        }
        log.info(
          { roomId, outboxId: row.id, reason: outcome.reason, delayMs: outcome.delayMs },
          "Send failed; will retry",
        );
        await this.outbox.markRetry(row.id, outcome.reason, new Date(Date.now() + outcome.delayMs));
        this.observer.retried?.(row, outcome.reason, outcome.delayMs);
        return; // head-of-line: later rows of this room wait, other rooms go on
      }
    }
  }

  private deliver(row: OutboxRow): Promise<string> {
    if (row.stateKey !== undefined && row.stateKey !== null) {
      return this.client.sendState(row.roomId, row.type, row.stateKey, row.content, row.sender);
    }
    return this.client.sendEvent(
      row.roomId,
      row.type,
      row.id,
      row.content,
      row.sender,
      this.opts.deviceFor?.(row.sender),
    );
  }
}
