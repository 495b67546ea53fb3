import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/**
 * Agents a bridge admin paused (`agent <id> pause`): kept across restarts. A paused agent
 * answers commands with a note that it is paused; its scheduled items still fire.
 */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE agent_pauses (
      agent_id  text PRIMARY KEY,
      paused_by text NOT NULL,
      paused_at timestamptz NOT NULL DEFAULT ${t.now}
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS agent_pauses`);
}
