import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import type { ScheduledItem } from "../store/scheduleStore";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { Agent, DueContext } from "../agents/types";
import type { AgentContexts } from "./agentContexts";

// The agents' own logger name, so an agent's lines read the same from onDue as from onCommand.
const log = moduleLogger("appservice/agents");

/** What a fired item asks for: done, or fire again at `repeatAt` (with a new payload). */
export type DueResult = "done" | { repeatAt: Date; payload?: Record<string, unknown> };

/**
 * Runs an agent's onDue for one scheduled item, inside the scheduler's transaction: the agent's
 * writes, its messages (outbox rows) and the item's completion commit together.
 */
export async function runDueItem(
  trx: Knex.Transaction,
  item: ScheduledItem,
  agent: ResolvedAgent,
  instance: Agent,
  now: Date,
  contexts: AgentContexts,
  openDm: (userId: string) => Promise<string>,
): Promise<DueResult> {
  let repeat: { repeatAt: Date; payload?: Record<string, unknown> } | undefined;
  const ctx: DueContext = {
    ...contexts.base(trx, agent, now, log.child({ agent: agent.id, itemId: item.id })),
    itemId: item.id,
    payload: item.payload,
    dueAt: item.dueAt,
    lateMs: Math.max(0, now.getTime() - item.dueAt.getTime()),
    firedCount: item.firedCount,
    openDm,
    repeatAt: (dueAt, payload) => {
      repeat = { repeatAt: dueAt, payload };
    },
  };
  await instance.onDue!(ctx);
  return repeat ?? "done";
}
