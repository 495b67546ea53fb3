import PQueue from "p-queue";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { HomeserverError } from "../errors";
import { faultPoint } from "../faultPoints";
import type { Outbox, OutboxRow } from "../store/outbox";
import { MatrixHttpError, type HomeserverClient } from "../appservice/homeserverClient";
import { classifySendError, type BackoffOptions, type ParkCode } from "./retryPolicy";

const log = moduleLogger("queue/outbox");

export interface OutboxWorkerOptions {
  /** Rooms delivered to at the same time; each room is strictly FIFO. */
  concurrency: number;
  backoff: BackoffOptions;
  /** Longest sleep between checks when nothing wakes the worker. */
  idlePollMs: number;
  /**
   * Fixed device of a sending user, so the homeserver persists transaction ids (24 h dedupe).
   * May create the device on first use; a rejection makes the send retry later.
   */
  deviceFor?: (userId: string) => string | undefined | Promise<string | undefined>;
  /** The homeserver no longer knows the user's device (M_UNKNOWN_DEVICE): forget it, make a new one. */
  forgetDevice?: (userId: string) => void | Promise<void>;
  /**
   * Hold a per-room lock (PostgreSQL advisory lock) around each send, so that several bridge
   * processes sharing one database never deliver the same room at the same time. Not for PGlite.
   */
  exclusiveRooms?: boolean;
  /**
   * Runs a bridge intent row (type `mab.intent.*`, see appservice/bridgeIntents.ts) instead of
   * sending it; its result stands as the row's event id. Retried and parked like a send.
   */
  runIntent?: (row: OutboxRow) => Promise<string>;
  /**
   * Into an encrypted room: the row encrypted by its sender's device (room key shared with the
   * members' devices first), or undefined to send it as it is. Runs before every attempt.
   */
  encrypt?: (row: OutboxRow) => Promise<{ type: string; content: Record<string, unknown> } | undefined>;
  /** Failed attempts after which a send failing with 5xx is parked (see SendLimits). */
  maxServerErrors?: number;
  /**
   * Rows of a room sent at the same time when they belong to different parallel groups (scheduled
   * deliveries, src/queue/parallelGroup.ts); ungrouped rows (replies) always go one at a time, in
   * order. Default 1: strictly one at a time.
   */
  parallelSendsPerRoom?: number;
}

/** Why a send is retried, as a small fixed set (a metric label). */
export type RetryReason = "rate_limited" | "server_error" | "network" | "unknown_device" | "other";

export interface DeliveryObserver {
  sent?(row: OutboxRow, eventId: string, latencyMs: number): void;
  retried?(row: OutboxRow, reason: string, delayMs: number, kind: RetryReason): void;
  parked?(row: OutboxRow, reason: string, code: ParkCode): void;
}

type Step = "sent" | "parked" | "wait" | "empty" | "busy";

/** How long to leave a room alone that another process is delivering. */
const BUSY_RETRY_MS = 250;

/**
 * Delivers outbox rows. The database is the queue: rows are read a room at a time, so memory
 * stays bounded however many are pending, and a crash loses nothing (a resend reuses the
 * row's id as the transaction id, which the homeserver deduplicates).
 */
export class OutboxWorker {
  private readonly queue: PQueue;
  private readonly activeRooms = new Set<string>();
  /** Rooms another process is delivering (PostgreSQL): left alone until then. */
  private readonly busyUntil = new Map<string, number>();
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

  /**
   * New rows were committed: look now rather than at the next poll. The rooms this process just
   * wrote to start at once (the hand-off of a reply: no poll of the table before its send); the
   * wake-up finds everything else.
   */
  kick(): void {
    if (this.running) for (const roomId of this.outbox.takeTouchedRooms()) this.schedule(roomId);
    this.wake?.();
  }

  /** Rooms being delivered right now. */
  get busyRooms(): number {
    return this.activeRooms.size;
  }

  /**
   * Stops taking new rows and waits up to graceMs for the sends in flight to finish (and be
   * recorded); whatever is not sent stays in the outbox for the next start. Returns true when
   * everything in flight finished within the grace period.
   */
  async stop(graceMs: number): Promise<boolean> {
    if (!this.running) return true;
    this.running = false;
    this.kick();
    await this.loop;
    this.queue.clear();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.queue.onIdle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      log.warn(
        { rooms: [...this.activeRooms] },
        "Shutdown grace period over with sends in flight; they are re-sent (same transaction ids) on the next start",
      );
    }
    return finished;
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
      // Rooms due now are scheduled here; a room being delivered kicks us when it is done, and
      // committed rows kick us too. So we only need to wake for rows whose backoff ends later,
      // for rooms another process holds, and as a safety net every idlePollMs.
      let wait = this.opts.idlePollMs;
      try {
        const rooms = await this.outbox.roomsWithDue(new Date(), this.opts.concurrency * 4);
        for (const roomId of rooms) this.schedule(roomId);
        const nextDue = await this.outbox.nextDueAt();
        const untilDue = nextDue ? nextDue.getTime() - Date.now() : Infinity;
        if (untilDue > 0) wait = Math.min(wait, untilDue);
      } catch (err) {
        log.error({ err: (err as Error).message }, "Outbox poll failed; will retry");
      }
      if (!this.running) break;
      const now = Date.now();
      for (const [roomId, until] of this.busyUntil) {
        if (until <= now) this.busyUntil.delete(roomId);
        else wait = Math.min(wait, until - now);
      }
      await this.sleep(Math.max(10, wait));
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
    if (this.activeRooms.has(roomId) || !this.running) return;
    if ((this.busyUntil.get(roomId) ?? 0) > Date.now()) return;
    this.activeRooms.add(roomId);
    void this.queue.add(async () => {
      let last: Step = "empty";
      try {
        last = await this.drainRoom(roomId);
      } catch (err) {
        log.error({ roomId, err: (err as Error).message }, "Room delivery failed");
      } finally {
        this.activeRooms.delete(roomId);
        if (last === "busy") this.busyUntil.set(roomId, Date.now() + BUSY_RETRY_MS);
        // Rows may have arrived while we were busy with this room.
        this.kick();
      }
    });
  }

  private async drainRoom(roomId: string): Promise<Step> {
    for (;;) {
      if (!this.running) return "empty";
      const step: Step = this.opts.exclusiveRooms
        ? await this.outbox.withRoomLock(roomId, (trx) => this.sendHead(roomId, trx))
        : await this.sendHead(roomId);
      // sent or parked: the next message of the room may go now.
      if (step !== "sent" && step !== "parked") return step;
    }
  }

  /**
   * Sends the room's head if it is due, with the grouped rows right after it when parallel sends
   * are on, and records the outcomes (in `trx` when given).
   */
  private async sendHead(roomId: string, trx?: Knex.Transaction): Promise<Step> {
    const parallel = this.opts.parallelSendsPerRoom ?? 1;
    const rows =
      parallel > 1
        ? await this.outbox.headRun(roomId, parallel, trx)
        : [await this.outbox.headOfRoom(roomId, trx)].filter((r): r is OutboxRow => r !== null);
    const now = Date.now();
    const head = rows[0];
    if (!head || head.nextAttemptAt.getTime() > now) return "empty";
    const due = rows.filter((r) => r.nextAttemptAt.getTime() <= now);
    if (due.length === 1) return this.sendRow(roomId, head, trx);
    const steps = await Promise.all(due.map((r) => this.sendRow(roomId, r, trx)));
    // One of them backs off: it is (or becomes) the head, and the room waits for it.
    return steps.includes("wait") ? "wait" : "sent";
  }

  private async sendRow(roomId: string, row: OutboxRow, trx?: Knex.Transaction): Promise<Step> {
    const started = Date.now();
    try {
      const eventId = await this.deliver(row);
      faultPoint("during-send");
      await this.outbox.markSent(row.id, eventId, trx);
      this.observer.sent?.(row, eventId, Date.now() - started);
      return "sent";
    } catch (err) {
      if (err instanceof MatrixHttpError && err.errcode === "M_UNKNOWN_DEVICE" && this.opts.forgetDevice) {
        log.warn({ userId: row.sender }, "The homeserver lost the sending device; making a new one");
        await this.opts.forgetDevice(row.sender);
        await this.outbox.markRetry(row.id, err.message, new Date(Date.now() + 100), trx);
        this.observer.retried?.(row, err.message, 100, "unknown_device");
        return "wait";
      }
      const outcome = classifySendError(err, row.attempts, this.opts.backoff, {
        maxServerErrors: this.opts.maxServerErrors,
      });
      if (outcome.kind === "park") {
        log.warn(
          { roomId, outboxId: row.id, reason: outcome.reason },
          "Outbound message parked: will not retry",
        );
        await this.outbox.markFailed(row.id, outcome.reason, trx);
        this.observer.parked?.(row, outcome.reason, outcome.code);
        return "parked";
      }
      log.info(
        { roomId, outboxId: row.id, reason: outcome.reason, delayMs: outcome.delayMs },
        "Send failed; will retry",
      );
      await this.outbox.markRetry(row.id, outcome.reason, new Date(Date.now() + outcome.delayMs), trx);
      this.observer.retried?.(row, outcome.reason, outcome.delayMs, retryReason(err));
      return "wait"; // head-of-line: later rows of this room wait, other rooms go on
    }
  }

  private async deliver(row: OutboxRow): Promise<string> {
    if (row.type.startsWith("mab.intent.") && this.opts.runIntent) return this.opts.runIntent(row);
    if (row.stateKey !== undefined && row.stateKey !== null) {
      return this.client.sendState(row.roomId, row.type, row.stateKey, row.content, row.sender);
    }
    const deviceId = await this.opts.deviceFor?.(row.sender);
    const sealed = await this.opts.encrypt?.(row);
    const [type, content] = sealed ? [sealed.type, sealed.content] : [row.type, row.content];
    return this.client.sendEvent(row.roomId, type, row.id, content, row.sender, deviceId);
  }
}

function retryReason(err: unknown): RetryReason {
  if (err instanceof MatrixHttpError) {
    if (err.status === 429) return "rate_limited";
    if (err.status >= 500 || err.status === 408) return "server_error";
    return "other";
  }
  return err instanceof HomeserverError ? "network" : "other";
}
