import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { faultPoint } from "../faultPoints";
import { isTransientError } from "../queue/retryPolicy";
import { needsHomeserver, takePendingNeed, type NeedsHomeserver } from "../store/transactionScope";
import type { Inbox } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";

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
}

/**
 * Handles a room's prepared events in one transaction, each in its own savepoint: an event whose
 * handler fails is rolled back alone and recorded as failed; the others commit together with the
 * mark that they were handled. A transient failure (the database going away) rolls back the whole
 * batch and is thrown, to be retried.
 */
export async function handleBatch(
  knex: Knex,
  inbox: Inbox,
  handlers: EventHandlers,
  items: readonly BatchItem[],
): Promise<BatchResult> {
  const effects = new Map<string, EventEffects>();
  const result = await knex.transaction(async (trx): Promise<BatchResult> => {
    const out: BatchResult = { ok: [], failed: [], skipped: [] };
    const status = await inbox.lockManyForHandling(
      trx,
      items.map((i) => i.event.event_id),
    );
    for (const { event, prepared } of items) {
      // On the embedded database every query resolves as a microtask, so a batch would run as one
      // uninterrupted chain: let timers and I/O in between events.
      await yieldToEventLoop();
      if (status.get(event.event_id) !== "claimed") {
        out.skipped.push(event);
        continue;
      }
      const mine = new EventEffects();
      try {
        takePendingNeed();
        await trx.transaction(async (sp) => {
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
        if (need) {
          out.needs = { event, need };
          break;
        }
        if (isTransientError(err)) throw err;
        log.error(
          { eventId: event.event_id, roomId: event.room_id, err: errorMessage(err) },
          "Event handling failed",
        );
        out.failed.push({ event, error: errorMessage(err) });
      }
    }
    await inbox.markHandledMany(
      trx,
      out.ok.map((e) => e.event_id),
    );
    for (const { event, error } of out.failed) await inbox.markFailed(trx, event.event_id, error);
    return out;
  });
  for (const event of result.ok) {
    effects.get(event.event_id)?.run();
    faultPoint("after-handle");
  }
  return result;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
