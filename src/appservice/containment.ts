import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { UserInputError, errorMessage } from "../errors";
import { needsHomeserver } from "../store/transactionScope";
import type { OutgoingMessage } from "../agents/types";
import { RetryWithSavepoints, savepoint } from "./savepoints";

const log = moduleLogger("appservice/containment");

export type ContainedOutcome = "ok" | "user_error" | "failed";

export interface ContainmentHooks {
  /** Answers the event (inside the outer transaction, after the savepoint was rolled back). */
  reply(message: string | OutgoingMessage): Promise<unknown>;
  /** Counts the failure for operators under its reference. */
  agentFailed(ref: string): void;
}

/**
 * Runs an agent's handler in a savepoint of `trx`, so that a failing agent rolls back only its
 * own writes and the event still counts as handled: a user error is answered with its message,
 * anything else is logged under a short reference that the apology (optionally) quotes, so a
 * user's report can be matched to the log line.
 */
export async function runContained(
  hooks: ContainmentHooks,
  trx: Knex.Transaction,
  where: { agent: string; roomId: string; eventId: string },
  apologise: boolean,
  fn: (db: Knex.Transaction) => Promise<void>,
): Promise<ContainedOutcome> {
  try {
    // A savepoint, except in a batch running without any (savepoints.ts): there a failure after
    // the agent wrote re-runs the batch with savepoints, and this catch then sees it.
    await savepoint(trx, fn);
    return "ok";
  } catch (err) {
    // Not the agent's failure: the whole transaction re-runs once the homeserver answered.
    if (needsHomeserver(err) || err instanceof RetryWithSavepoints) throw err;
    if (err instanceof UserInputError) {
      await hooks.reply(err.message);
      return "user_error";
    }
    const ref = randomBytes(4).toString("hex");
    hooks.agentFailed(ref);
    log.error(
      { ref, ...where, err: errorMessage(err), stack: (err as Error)?.stack },
      "Agent failed on an event",
    );
    if (apologise) await hooks.reply(`Sorry, something went wrong on my side (reference \`${ref}\`).`);
    return "failed";
  }
}
