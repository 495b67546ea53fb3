import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";

const log = moduleLogger("admin/pauses");

/**
 * Which agents a bridge admin paused. The table is the truth (it survives restarts); the set
 * in memory is what the command path reads, so a paused check costs no query.
 */
export class AgentPauses {
  private readonly paused = new Set<string>();

  /** `onChange` hears every change of the set (the mab_agent_paused gauge). */
  constructor(private readonly onChange: (paused: ReadonlySet<string>) => void = () => undefined) {}

  async load(knex: Knex): Promise<this> {
    const rows = (await knex("agent_pauses").select("agent_id")) as { agent_id: string }[];
    this.paused.clear();
    for (const row of rows) this.paused.add(row.agent_id);
    this.onChange(this.paused);
    return this;
  }

  isPaused(agentId: string): boolean {
    return this.paused.has(agentId);
  }

  all(): ReadonlySet<string> {
    return this.paused;
  }

  /**
   * Records the change in `db` (the caller's transaction); the in-memory set follows through
   * `apply` once that commits. Returns false when the agent already was in that state.
   */
  async set(db: Knex, agentId: string, paused: boolean, by: string): Promise<boolean> {
    const before = (await db("agent_pauses").where({ agent_id: agentId }).first()) !== undefined;
    if (before === paused) return false;
    if (paused) await db("agent_pauses").insert({ agent_id: agentId, paused_by: by });
    else await db("agent_pauses").where({ agent_id: agentId }).del();
    log.info({ agent: agentId, paused, by }, paused ? "Agent paused" : "Agent resumed");
    return true;
  }

  apply(agentId: string, paused: boolean): void {
    if (paused) this.paused.add(agentId);
    else this.paused.delete(agentId);
    this.onChange(this.paused);
  }
}
