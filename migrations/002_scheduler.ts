import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/**
 * Due times of time-based agents (reminders, timers). One dispatcher claims due rows with
 * FOR UPDATE SKIP LOCKED inside the transaction that also runs the agent and writes its
 * messages to the outbox, so each firing happens exactly once, even with two processes.
 */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE scheduled_items (
      id          uuid PRIMARY KEY,
      agent_id    text NOT NULL,
      due_at      timestamptz NOT NULL,
      payload     jsonb NOT NULL,
      status      text NOT NULL DEFAULT 'pending'
                  CONSTRAINT scheduled_items_status_check CHECK (status IN ('pending', 'done', 'cancelled', 'failed')),
      fired_count integer NOT NULL DEFAULT 0,
      last_error  text NULL,
      created_at  timestamptz NOT NULL DEFAULT ${t.now},
      updated_at  timestamptz NOT NULL DEFAULT ${t.now}
    )`);
  await knex.raw(`CREATE INDEX scheduled_items_due_idx ON scheduled_items (status, due_at)`);
  await knex.raw(`CREATE INDEX scheduled_items_agent_idx ON scheduled_items (agent_id, status)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS scheduled_items`);
}
