import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { faultPoint } from "../faultPoints";
import { isTransientError } from "../queue/retryPolicy";
import { needsHomeserver, takePendingNeed, type NeedsHomeserver } from "../store/transactionScope";
import type { Inbox } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";
import { checkUnspoiled, RetryWithSavepoints, runWithoutSavepoints, savepoint } from "./savepoints";

const log = moduleLogger("appservice/batch");

/** Work an event's handler leaves for after its transaction commits (cache updates, wake-ups). */
export class EventEffects {
  private readonly fns: (() => void)[] = [];

  afterCommit(fn: () => void): void {
    this.fns.push(fn);
  }

  run(): void {
    for (const fn of this.fns) {
      try {
        fn();
      } catch (err) {
        log.error({ err: errorMessage(err) }, "An after-commit step failed");
      }
    }
  }
}

/**
 * What the bridge does with an event, in two steps. `prepare` runs before the event's transaction
 * and is the only place that may call the homeserver (join a room it was invited to, check a room
 * upgrade, fill the caches `handle` reads); it must be idempotent, because after a crash or a
 * transient failure it runs again. `handle` runs inside the transaction (in a savepoint of the
 * room's batch) and only touches the database and in-memory caches.
 */
export interface EventHandlers {
  prepare?(event: MatrixEvent): Promise<unknown>;
  /**
   * True when the event may be handled inside its claim's transaction (inlineHandling.ts): its
   * `prepare` needs nothing from the homeserver. Synchronous and cheap: asked for every event.
   */
  canHandleInClaim?(event: MatrixEvent): boolean;
  /**
   * Before `canHandleInClaim` is asked about a push: learns from the database (outside any
   * transaction) what it needs about rooms this process has not seen yet. A failure only means
   * those events are queued rather than handled in the claim.
   */
  learn?(events: readonly MatrixEvent[]): Promise<void>;
  handle(event: MatrixEvent, trx: Knex.Transaction, effects: EventEffects, prepared: unknown): Promise<void>;
}

export interface BatchItem {
  event: MatrixEvent;
  prepared: unknown;
}

export interface BatchResult {
  ok: MatrixEvent[];
  failed: { event: MatrixEvent; error: string }[];
  /** Someone else (another process, a recovery pass) had handled them already. */
  skipped: MatrixEvent[];
  /** The event whose handler needs the homeserver first; it and those after it were not handled. */
  needs?: { event: MatrixEvent; need: NeedsHomeserver };
  /** Nothing was taken: the room has earlier claimed events outside the batch (see BatchOptions). */
  notFirst?: boolean;
}

export interface BatchOptions {
  /**
   * Take nothing while the room has earlier claimed events that are not in the batch (several
   * processes share the database): the result then has `notFirst` and the caller takes those first.
   */
  onlyIfFirstInRoom?: boolean;
}

/**
 * Handles a room's prepared events in one transaction: one statement takes (locks and marks) the
 * events still claimed, the handlers run, one commit. It first runs without savepoints
 * (savepoints.ts); if a handler fails after writing, that transaction rolls back and the batch
 * runs again with a savepoint per event, so the failing one is rolled back alone and recorded as
 * failed while the others commit with their mark. A transient failure (the database going away) rolls back the whole batch and is
 * thrown, to be retried. A handler that needs the homeserver ends the batch at that event.
 */
export async function handleBatch(
  knex: Knex,
  inbox: Inbox,
  handlers: EventHandlers,
  items: readonly BatchItem[],
  opts: BatchOptions = {},
): Promise<BatchResult> {
  let run;
  try {
    run = await attempt(knex, inbox, handlers, items, opts, false);
  } catch (err) {
    if (!(err instanceof RetryWithSavepoints)) throw err;
    log.debug({ err: errorMessage(err.reason) }, "Running the batch again with a savepoint per event");
    run = await attempt(knex, inbox, handlers, items, opts, true);
  }
  for (const event of run.result.ok) {
    run.effects.get(event.event_id)?.run();
    faultPoint("after-handle");
  }
  return run.result;
}

async function attempt(
  knex: Knex,
  inbox: Inbox,
  handlers: EventHandlers,
  items: readonly BatchItem[],
  opts: BatchOptions,
  withSavepoints: boolean,
): Promise<{ result: BatchResult; effects: Map<string, EventEffects> }> {
  const effects = new Map<string, EventEffects>();
  const result = await knex
    .transaction(async (trx): Promise<BatchResult> => {
      const out: BatchResult = { ok: [], failed: [], skipped: [] };
      if (!withSavepoints) runWithoutSavepoints(trx);
      const ids = items.map((i) => i.event.event_id);
      const roomId = items[0]?.event.room_id;
      const guard = opts.onlyIfFirstInRoom && roomId ? { roomId } : undefined;
      const taken = await inbox.takeForHandling(trx, ids, guard);
      if (guard && taken.size < ids.length) {
        // Someone else's earlier events, or events already handled: let the caller sort it out.
        throw new NotFirstInRoom();
      }
      let stoppedAt = items.length;
      for (const [index, { event, prepared }] of items.entries()) {
        // On the embedded database every query resolves as a microtask, so a batch would run as one
        // uninterrupted chain: let timers and I/O in between events.
        if (index > 0) await yieldToEventLoop();
        if (!taken.has(event.event_id)) {
          out.skipped.push(event);
          continue;
        }
        const mine = new EventEffects();
        try {
          takePendingNeed();
          await savepoint(trx, async (sp) => {
            await handlers.handle(event, sp, mine, prepared);
            // Needed the homeserver but caught it (an agent's try/catch): roll this event back.
            const need = takePendingNeed();
            if (need) throw need;
          });
          out.ok.push(event);
          effects.set(event.event_id, mine);
        } catch (err) {
          takePendingNeed(); // handled here, with this event's savepoint rolled back
          const need = needsHomeserver(err);
          if (need && !withSavepoints) throw new NeedsFirst(event, need);
          if (need) {
            out.needs = { event, need };
            stoppedAt = index;
            break;
          }
          if (err instanceof RetryWithSavepoints || isTransientError(err)) throw err;
          log.error(
            { eventId: event.event_id, roomId: event.room_id, err: errorMessage(err) },
            "Event handling failed",
          );
          out.failed.push({ event, error: errorMessage(err) });
        }
      }
      // Those not handled now stay claimed.
      await inbox.untake(
        trx,
        items
          .slice(stoppedAt)
          .map((i) => i.event.event_id)
          .filter((id) => taken.has(id)),
      );
      for (const { event, error } of out.failed) await inbox.markFailed(trx, event.event_id, error);
      checkUnspoiled(trx);
      return out;
    })
    .catch((err: unknown) => {
      // Nothing committed: no event of the batch is done; the need is fetched and the batch runs again.
      if (err instanceof NeedsFirst)
        return { ok: [], failed: [], skipped: [], needs: { event: err.event, need: err.need } };
      if (err instanceof NotFirstInRoom) return { ok: [], failed: [], skipped: [], notFirst: true };
      throw err;
    });
  return { result, effects };
}

/** A handler of a batch without savepoints needed the homeserver: the batch rolls back. */
class NeedsFirst extends Error {
  constructor(
    readonly event: MatrixEvent,
    readonly need: NeedsHomeserver,
  ) {
    super(need.message);
  }
}

class NotFirstInRoom extends Error {
  constructor() {
    super("The room has earlier unhandled events outside the batch");
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
