import type { Knex } from "knex";
import type { MatrixEvent } from "../agents/types";

/** The inbound pipeline's options, observer and per-push options (see eventPipeline.ts). */

/** ok: handled now; failed: recorded as failed; skipped: someone else had handled it already. */
export type HandleOutcome = "ok" | "failed" | "skipped";

export interface PipelineObserver {
  /** A push: how many events, how many were new and to handle, how many new and inert. */
  received?(count: number, claimed: number, ignored: number): void;
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
   * Before a room's batch, handle earlier unhandled events of its room that are not queued here
   * (claimed by another process, or stranded). Needed only when several processes share the database.
   */
  orderAcrossProcesses: boolean;
  /** Events of one room handled in one transaction (one savepoint each). */
  batchSize: number;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  maxQueued: 5000,
  sweepIntervalMs: 60_000,
  staleClaimMs: 60_000,
  retry: { baseMs: 500, maxMs: 30_000 },
  retryForMs: 120_000,
  orderAcrossProcesses: false,
  batchSize: 50,
};

export interface ReceiveOptions {
  /**
   * Runs inside the claim's transaction (other durable parts of the same push), told which of the
   * push's events are to be handled (not inert; replays included).
   */
  inClaim?(trx: Knex.Transaction, toHandle: MatrixEvent[]): Promise<void>;
  /**
   * Events read back from the room's history (gap recovery): each is queued at its place in the
   * room's timeline among the events still waiting, not at the end.
   */
  recovered?: boolean;
}
