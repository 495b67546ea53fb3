import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { faultPoint } from "../faultPoints";
import type { Inbox } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";
import type { EventHandlers } from "./eventBatch";
import { RoomBatches } from "./roomBatches";
import { InlineHandling } from "./inlineHandling";
import {
  DEFAULT_PIPELINE_OPTIONS,
  type PipelineObserver,
  type PipelineOptions,
  type ReceiveOptions,
} from "./pipelineTypes";
import { insertInTimelineOrder, type RoomQueue } from "./roomQueue";
import { Sleepers, sleep } from "./sleepers";

const log = moduleLogger("appservice/pipeline");

export type { EventHandlers } from "./eventBatch";
export * from "./pipelineTypes";

const PAGE = 500;

/** The longest a hold (gap recovery in progress) keeps handling waiting. */
const MAX_HOLD_MS = 30_000;

/**
 * Exactly-once handling of incoming events.
 *
 * 1. `receive` claims a push's events in one atomic INSERT … ON CONFLICT DO NOTHING before the
 *    homeserver gets its 200; replays and duplicates claim nothing. Inert events (`isInert`) are
 *    recorded as handled in that statement; commands in DMs are handled in the claim's
 *    transaction when nothing of their room waits (inlineHandling.ts).
 * 2. The others queue per room, handled in batches (roomBatches.ts, eventBatch.ts): each event is
 *    prepared (the only step that may call the homeserver), then one transaction takes the rows
 *    still claimed, runs the handlers and commits their effects together with the mark.
 * 3. Events of one room run in order (earlier unhandled events of the room, even ones another
 *    process claimed, join the batch first); different rooms run concurrently.
 * 4. `recover` (at start) and a periodic sweep handle what was claimed but not handled: events of
 *    a dead process, and what was claimed while the in-memory queue was full. Until `recover`
 *    runs, received events are only claimed, so nothing runs before the agents start.
 */
export class EventPipeline {
  private readonly rooms = new Map<string, RoomQueue>();
  private readonly queued = new Set<string>();
  private readonly handlers: EventHandlers;
  private readonly batches: RoomBatches;
  private readonly inline: InlineHandling;
  /**
   * paused: claim only (before start). direct: claim, then queue in memory. backlog: claim only;
   * a drain loop reads claimed events from the database in order. stopped: claim only, for good.
   */
  private mode: "paused" | "direct" | "backlog" | "stopped" = "paused";
  private receiving = 0;
  private draining?: Promise<number>;
  private sweepTimer?: NodeJS.Timeout;
  private readonly opts: PipelineOptions;
  private readonly sleepers = new Sleepers();
  /** While set, rooms wait before their next batch (see hold). */
  private holding?: Promise<unknown>;

  constructor(
    private readonly knex: Knex,
    private readonly inbox: Inbox,
    handlers: EventHandlers | EventHandlers["handle"],
    private readonly afterCommit: () => void,
    private readonly observer: PipelineObserver = {},
    opts: Partial<PipelineOptions> = {},
    /** Events that need no handling (decided at claim time; see EventTriage). */
    private readonly isInert: (event: MatrixEvent) => boolean = () => false,
  ) {
    this.opts = { ...DEFAULT_PIPELINE_OPTIONS, ...opts };
    this.handlers = typeof handlers === "function" ? { handle: handlers } : handlers;
    this.inline = new InlineHandling(
      inbox,
      this.handlers,
      observer,
      afterCommit,
      (roomId) => this.rooms.has(roomId),
      this.opts.orderAcrossProcesses,
    );
    this.batches = new RoomBatches({
      knex,
      inbox,
      handlers: this.handlers,
      observer,
      opts: this.opts,
      afterCommit,
      stopped: () => this.mode === "stopped",
      isQueued: (id) => this.queued.has(id),
      sleep: (ms) => this.sleepers.sleep(ms),
    });
  }

  /**
   * Handling waits (claims go on) until `work` settles, at most MAX_HOLD_MS: gap recovery reads
   * what a homeserver lost before the events pushed after the loss are handled, so a room's
   * commands are still answered in their order.
   */
  hold(work: Promise<unknown>): void {
    const capped = Promise.race([work, sleep(MAX_HOLD_MS)]).catch(() => undefined);
    const all = Promise.all([this.holding, capped]);
    this.holding = all;
    void all.finally(() => {
      if (this.holding === all) this.holding = undefined;
    });
  }

  /** Resolves once the events are durably claimed (the caller may then answer 200). */
  async receive(events: MatrixEvent[], opts: ReceiveOptions = {}): Promise<void> {
    if (events.length === 0 && !opts.inClaim) return;
    this.receiving++;
    try {
      const inert = new Set(events.filter((e) => this.isInert(e)).map((e) => e.event_id));
      const toHandle = events.filter((e) => !inert.has(e.event_id));
      // Commands that can be handled in the claim's own transaction (inlineHandling.ts).
      const mayInline = this.mode === "direct" && !this.holding && !opts.recovered;
      const result = await this.inline.claim(events, { inert, toHandle, mayInline, inClaim: opts.inClaim });
      const claimed = result.toHandle;
      this.observer.received?.(events.length, claimed.length + result.inlined.length, result.ignored.length);
      faultPoint("after-claim");
      if (claimed.length === 0 || this.mode !== "direct") return; // the drain picks them up
      if (this.queued.size + claimed.length > this.opts.maxQueued) {
        log.warn({ queued: this.queued.size }, "Event queue full; newer events wait in the database");
        this.startDrain();
        return;
      }
      const byId = new Map(events.map((e) => [e.event_id, e]));
      for (const id of claimed) this.enqueue(byId.get(id)!, opts.recovered === true);
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
      const running = [...this.rooms.values()].map((r) => r.running).filter((r) => r !== undefined);
      if (running.length) await Promise.allSettled(running);
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
    this.sleepers.wakeAll();
    const running = [...this.rooms.values()].map((r) => r.running).filter((r) => r !== undefined);
    const all = Promise.allSettled([...running, ...(this.draining ? [this.draining] : [])]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) log.warn({ running: running.length }, "Stopped before every running batch committed");
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
          await this.sleepers.sleep(1000);
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

  private enqueue(event: MatrixEvent, inTimelineOrder = false): void {
    if (this.queued.has(event.event_id)) return;
    this.queued.add(event.event_id);
    const key = event.room_id ?? "";
    let room = this.rooms.get(key);
    if (!room) {
      room = { events: [], inBatch: 0 };
      this.rooms.set(key, room);
    }
    insertInTimelineOrder(room, event, inTimelineOrder);
    this.startRoom(key, room);
  }

  private startRoom(key: string, room: RoomQueue): void {
    if (room.running) return;
    // Started on the next microtask, so that events enqueued together (one push, one page of the
    // backlog) form one batch.
    room.running = Promise.resolve()
      .then(() => this.runRoom(room))
      .catch((err) => log.error({ roomId: key, err: errorMessage(err) }, "Room queue stopped unexpectedly"))
      .finally(() => {
        room.running = undefined;
        if (room.events.length && this.mode !== "stopped") this.startRoom(key, room);
        else if (!room.events.length && this.rooms.get(key) === room) this.rooms.delete(key);
      });
  }

  /** Handles a room's queue, a batch at a time, until it is empty (or the pipeline stops). */
  private async runRoom(room: RoomQueue): Promise<void> {
    while (room.events.length) {
      if (this.mode === "stopped") {
        // What is left stays claimed in the database; the next start handles it.
        for (const e of room.events.splice(0)) this.queued.delete(e.event_id);
        return;
      }
      if (this.holding) {
        await this.holding; // then round again: the pipeline may have stopped meanwhile
        continue;
      }
      const head = room.events.slice(0, this.opts.batchSize);
      room.inBatch = head.length;
      const done = await this.batches.run(head).finally(() => (room.inBatch = 0));
      for (const e of room.events.splice(0, done)) {
        this.queued.delete(e.event_id);
        this.batches.forget(e.event_id);
      }
    }
  }
}
