/**
 * Crash points for the fault tests (test/e2e/faults). Inert unless the environment variable
 * MAB_FAULT_KILL_AT names one of the points below: then the process kills itself with SIGKILL
 * the MAB_FAULT_KILL_AFTER-th time (default 1) it reaches that point, exactly as a power cut or
 * the OOM killer would, with no cleanup of any kind. With MAB_FAULT_ARM_FILE, only the times the
 * point is reached while that file exists count (so a test can set up first, then arm). The
 * variables are read once, at start-up.
 */
import { existsSync } from "node:fs";

export type FaultPoint =
  /** Inside the claim's database transaction, after the INSERT and before COMMIT. */
  | "before-claim-commit"
  /** The claim committed; the homeserver has not been answered yet. */
  | "after-claim"
  /** An event is about to be handled (its transaction not yet begun). */
  | "before-handle"
  /** An event's handling (and its outbox rows) committed; nothing sent yet for it. */
  | "after-handle"
  /** The homeserver accepted a send; the outbox row is not yet marked sent. */
  | "during-send"
  /** A crypto machine took in a transaction's to-device messages (room keys); its store is not saved yet. */
  | "mid-decryption";

const armedAt = process.env.MAB_FAULT_KILL_AT || undefined;
const killAfter = Math.max(1, Number(process.env.MAB_FAULT_KILL_AFTER ?? 1) || 1);
const armFile = process.env.MAB_FAULT_ARM_FILE || undefined;
let hits = 0;

export function faultPoint(point: FaultPoint): void {
  if (armedAt !== point) return;
  if (armFile && !existsSync(armFile)) return;
  hits += 1;
  if (hits < killAfter) return;
  process.stderr.write(`[fault] SIGKILL at ${point} (hit ${hits})\n`);
  process.kill(process.pid, "SIGKILL");
}
