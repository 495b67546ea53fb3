import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { MatrixEvent } from "../agents/types";
import type { RoomActivity } from "../store/roomActivity";
import type { HomeserverClient } from "./homeserverClient";
import type { MembershipCache } from "./membershipCache";
import { validateEvents } from "./eventValidation";

const log = moduleLogger("appservice/gaps");

export interface GapRecoveryOptions {
  /** Rooms whose agents were active this recently are checked. */
  activeWithinMs: number;
  /** Periodic check of active rooms (0: only after start-up and suspected losses). */
  intervalMs: number;
  /** Pages of history read per room, and events per page. */
  maxPages: number;
  pageSize: number;
  /** Rooms checked per pass. */
  maxRooms: number;
}

export const DEFAULT_GAP_OPTIONS: GapRecoveryOptions = {
  activeWithinMs: 3_600_000,
  intervalMs: 300_000,
  maxPages: 5,
  pageSize: 100,
  maxRooms: 200,
};

/** Least time between two background read-backs started by forward jumps of the counter. */
export const FORWARD_JUMP_PASS_MS = 60_000;

/**
 * Gap recovery. A homeserver can drop events it should have pushed across its own restart
 * (synapse#11637), and nothing in the appservice protocol says so. The bridge knows where its
 * agents were active: after start-up, when a push suggests a loss (the transaction counter jumped
 * or restarted, or the homeserver was unreachable since the last push), and periodically, it reads
 * the recent history of those rooms (`/messages`, a bounded number of pages) and claims every event
 * in it. Claims dedupe by event id, so what was pushed is not handled again, and what was lost is
 * answered late, never dropped.
 */
export class GapRecovery {
  private lastTxn?: number;
  private lastPassAt = 0;
  private lastJumpPassAt = 0;
  private running?: Promise<number>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: HomeserverClient,
    private readonly membership: MembershipCache,
    private readonly ourUsers: readonly string[],
    private readonly activity: RoomActivity,
    /** Claims the events (the pipeline's receive, ordered by timeline). */
    private readonly claim: (events: MatrixEvent[]) => Promise<void>,
    private readonly opts: GapRecoveryOptions = DEFAULT_GAP_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * True when this push suggests that earlier events were lost and what follows must wait for the
   * read-back (call for every push, in order): the homeserver was unreachable since the last push,
   * or its transaction counter went back (it restarted). A counter that jumps forward is normal
   * on a homeserver with other appservices (Synapse numbers every appservice's transactions from
   * one sequence): with 2 bridges nearly every push jumped, and holding each one for a read-back
   * doubled the reply latency. A forward jump therefore starts a read-back in the background, at
   * most once per FORWARD_JUMP_PASS_MS, without holding anything.
   */
  suspectLoss(txnId: string): boolean {
    let suspect = this.client.takeOutage();
    const n = Number(txnId);
    if (Number.isSafeInteger(n)) {
      // The same id again is a retry; going back means a restart.
      if (this.lastTxn !== undefined && n < this.lastTxn) suspect = true;
      else if (this.lastTxn !== undefined && n > this.lastTxn + 1 && !suspect) this.forwardJump();
      this.lastTxn = n;
    }
    return suspect;
  }

  private forwardJump(): void {
    const now = this.now();
    if (this.running || now - this.lastJumpPassAt < FORWARD_JUMP_PASS_MS) return;
    this.lastJumpPassAt = now;
    void this.recover("suspected-loss").catch(() => undefined);
  }

  start(): void {
    if (this.opts.intervalMs > 0 && !this.timer) {
      this.timer = setInterval(
        () => void this.recover("periodic").catch(() => undefined),
        this.opts.intervalMs,
      );
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads the recent history of active rooms and claims it; resolves with the number of events
   * read. A pass after start-up or a suspected loss looks back over the whole activity window;
   * a periodic one back to shortly before the previous pass.
   */
  recover(reason: "start-up" | "suspected-loss" | "periodic"): Promise<number> {
    this.running ??= this.pass(reason).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(reason: string): Promise<number> {
    const started = this.now();
    const windowMs =
      reason === "periodic" && this.lastPassAt
        ? Math.min(this.opts.activeWithinMs, started - this.lastPassAt + 60_000)
        : this.opts.activeWithinMs;
    const since = started - windowMs;
    let read = 0;
    const rooms = await this.activity.activeSince(this.opts.activeWithinMs, this.opts.maxRooms);
    for (const roomId of rooms) {
      try {
        const events = await this.history(roomId, since);
        read += events.length;
        if (events.length) await this.claim(events);
      } catch (err) {
        log.warn({ roomId, reason, err: errorMessage(err) }, "Could not check the room for lost events");
      }
    }
    this.lastPassAt = started;
    await this.activity.prune(this.opts.activeWithinMs * 24).catch(() => undefined);
    log.info(
      { reason, rooms: rooms.length, read, ms: this.now() - started },
      "Checked active rooms for lost events",
    );
    return read;
  }

  /** The room's events since `since` (homeserver timestamps), oldest first, validated. */
  private async history(roomId: string, since: number): Promise<MatrixEvent[]> {
    const asUser = await this.memberOfOurs(roomId);
    if (!asUser) return [];
    const collected: unknown[] = [];
    let from: string | undefined;
    for (let page = 0; page < this.opts.maxPages; page++) {
      const res = await this.client.request<{ chunk?: unknown[]; end?: string }>(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
        { userId: asUser, query: { dir: "b", limit: String(this.opts.pageSize), from } },
      );
      const chunk = Array.isArray(res.chunk) ? res.chunk : [];
      let older = false;
      for (const raw of chunk) {
        const ts = (raw as { origin_server_ts?: unknown })?.origin_server_ts;
        if (typeof ts === "number" && ts < since) {
          older = true;
          break;
        }
        collected.push({ room_id: roomId, ...(raw as object) });
      }
      if (older || !res.end || chunk.length === 0) break;
      from = res.end;
    }
    const { events } = validateEvents(collected.reverse());
    return events;
  }

  private async memberOfOurs(roomId: string): Promise<string | undefined> {
    for (const userId of this.ourUsers) {
      if (await this.membership.isJoined(roomId, userId).catch(() => false)) return userId;
    }
    return undefined;
  }
}
