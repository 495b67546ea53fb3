import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/**
 * When a room last had something for an agent (a command, a reply to one, a reaction). Gap
 * recovery asks the homeserver for the recent history of these rooms only: a homeserver can drop
 * pushed events across its own restart (synapse#11637), and the bridge knows where its agents
 * were active.
 */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE room_activity (
      room_id        text PRIMARY KEY,
      last_active_at timestamptz NOT NULL DEFAULT ${t.now}
    )`);
  await knex.raw(`CREATE INDEX room_activity_last_active_idx ON room_activity (last_active_at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS room_activity`);
}
