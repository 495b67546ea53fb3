import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { faultPoint } from "../faultPoints";
import { isTransientError } from "../queue/retryPolicy";
import { needsHomeserver, takePendingNeed } from "../store/transactionScope";
import type { ClaimResult, Inbox, InboundEvent } from "../store/inbox";
import type { MatrixEvent } from "../agents/types";
import { EventEffects, type EventHandlers } from "./eventBatch";
import type { PipelineObserver } from "./pipelineTypes";
import { checkUnspoiled, RetryWithSavepoints, runWithoutSavepoints, savepoint } from "./savepoints";

const log = moduleLogger("appservice/inline");

/** Events of one push picked to be handled in its claim, with what `prepare` found for each. */
export interface InlinePick {
  events: MatrixEvent[];
  ids: Set<string>;
  prepared: Map<string, unknown>;
}

export interface InlineOutcome {
  ok: MatrixEvent[];
  failed: MatrixEvent[];
  effects: Map<string, EventEffects>;
  started: number;
}

/**
 * Handling a push's commands in its claim's transaction. A command in a DM (the commonest thing an
 * agent is asked) then costs one commit, not two: the claim, the handling, its `handled` mark and
 * its reply's outbox row commit together before the homeserver gets its 200, so the reply goes out
 * one disk flush sooner and exactly-once holds as before (all of it commits, or none of it and the
 * homeserver retries). Only events whose handler needs nothing from the homeserver
 * (`canHandleInClaim`) qualify, and only while nothing of their room waits here or, with several
 * processes, in the database. Any failure that would need a rollback (a handler that failed after
 * writing, needed the homeserver, or a transient error) rolls the claim back, and it is retried
 * without inline handling: the events are then queued as usual.
 */
export class InlineHandling {
  constructor(
    private readonly inbox: Inbox,
    private readonly handlers: EventHandlers,
    private readonly observer: PipelineObserver,
    private readonly afterCommit: () => void,
    /** A room with events waiting or running here. */
    private readonly roomBusy: (roomId: string) => boolean,
    /** Several processes share the database: rooms with claimed events there wait too. */
    private readonly shared: boolean,
  ) {}

  /** Picks, in order, the events of `toHandle` to handle in the claim; none of a room after one that cannot. */
  private async pick(toHandle: readonly MatrixEvent[]): Promise<InlinePick | undefined> {
    const can = this.handlers.canHandleInClaim;
    if (!can) return undefined;
    try {
      await this.handlers.learn?.(toHandle);
    } catch (err) {
      log.debug({ err: errorMessage(err) }, "Could not look up the push's rooms; queueing what is unknown");
    }
    const blocked = new Set<string>();
    const candidates: MatrixEvent[] = [];
    for (const event of toHandle) {
      const room = event.room_id ?? "";
      if (blocked.has(room)) continue;
      if (this.roomBusy(room) || !can(event)) blocked.add(room);
      else candidates.push(event);
    }
    if (candidates.length === 0) return undefined;
    if (this.shared) {
      for (const room of await this.inbox.roomsWithClaims([...new Set(candidates.map((e) => e.room_id))]))
        blocked.add(room);
    }
    const pick: InlinePick = { events: [], ids: new Set(), prepared: new Map() };
    for (const event of candidates) {
      if (blocked.has(event.room_id)) continue;
      try {
        pick.prepared.set(event.event_id, await this.handlers.prepare?.(event));
      } catch {
        blocked.add(event.room_id); // prepared again, with retries, in the room's queue
        continue;
      }
      pick.events.push(event);
      pick.ids.add(event.event_id);
    }
    return pick.events.length ? pick : undefined;
  }

  /**
   * Claims a push (Inbox.claimBatch), handling the events it can inside (when `mayInline`); if that
   * fails, claims it again without them (they are then queued like the others).
   */
  async claim(
    events: MatrixEvent[],
    opts: {
      inert: ReadonlySet<string>;
      /** The events that are not inert, in order. */
      toHandle: MatrixEvent[];
      mayInline: boolean;
      /** Other durable parts of the push, in the same transaction (ReceiveOptions.inClaim). */
      inClaim?(trx: Knex.Transaction, toHandle: MatrixEvent[]): Promise<void>;
    },
  ): Promise<ClaimResult> {
    const { inert, toHandle } = opts;
    const pick = opts.mayInline ? await this.pick(toHandle) : undefined;
    let outcome: InlineOutcome | undefined;
    const claim = (inline?: InlinePick) =>
      this.inbox.claimBatch(events as unknown as InboundEvent[], {
        inert,
        inline: inline?.ids,
        inClaim: async (trx, fresh) => {
          if (inline) {
            try {
              outcome = await this.handle(trx, fresh, inline);
            } catch (err) {
              throw new InlineFailed(err);
            }
          }
          await opts.inClaim?.(trx, toHandle);
        },
      });
    const result = await claim(pick).catch((err: unknown) => {
      // Only a failure of the handling itself: a claim that fails (the database down) is answered 5xx.
      if (!(err instanceof InlineFailed)) throw err;
      log.debug({ err: errorMessage(err.cause) }, "Claiming again, without handling in the claim");
      outcome = undefined;
      return claim();
    });
    if (outcome) this.finish(outcome);
    return result;
  }

  /** Inside the claim's transaction: handles the new events of `pick`, without savepoints. */
  private async handle(
    trx: Knex.Transaction,
    newIds: readonly string[],
    pick: InlinePick,
  ): Promise<InlineOutcome> {
    runWithoutSavepoints(trx);
    const fresh = new Set(newIds);
    const out: InlineOutcome = { ok: [], failed: [], effects: new Map(), started: Date.now() };
    for (const event of pick.events) {
      if (!fresh.has(event.event_id)) continue;
      faultPoint("before-handle");
      const mine = new EventEffects();
      try {
        takePendingNeed();
        await savepoint(trx, async (db) => {
          await this.handlers.handle(event, db, mine, pick.prepared.get(event.event_id));
          const need = takePendingNeed();
          if (need) throw need;
        });
        out.ok.push(event);
        out.effects.set(event.event_id, mine);
      } catch (err) {
        takePendingNeed();
        // Failed before writing anything: recorded as failed, as its savepoint would have been.
        if (err instanceof RetryWithSavepoints || needsHomeserver(err) || isTransientError(err)) throw err;
        log.error(
          { eventId: event.event_id, roomId: event.room_id, err: errorMessage(err) },
          "Event handling failed",
        );
        await this.inbox.markFailed(trx, event.event_id, errorMessage(err));
        out.failed.push(event);
      }
    }
    checkUnspoiled(trx);
    return out;
  }

  /** After the claim committed: the handled events' after-commit work, metrics, the outbox. */
  private finish(out: InlineOutcome): void {
    const ms = Date.now() - out.started;
    for (const event of out.ok) {
      out.effects.get(event.event_id)?.run();
      faultPoint("after-handle");
      this.observer.handled?.(event, "ok", ms);
    }
    for (const event of out.failed) this.observer.handled?.(event, "failed", ms);
    if (out.ok.length) this.afterCommit();
  }
}

/** A failure while handling in the claim (not of the claim itself): claim again without. */
class InlineFailed extends Error {
  constructor(cause: unknown) {
    super(`Handling in the claim failed: ${errorMessage(cause)}`, { cause });
  }
}
