import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/**
 * The fixed device of each user the bridge sends as (agents and the bridge bot). Sending with
 * `device_id` makes the homeserver keep each request's transaction id for 24 hours, across its
 * own restarts, so an outbox row re-sent after a crash is not posted twice.
 */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE agent_devices (
      user_id    text PRIMARY KEY,
      device_id  text NOT NULL,
      method     text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT ${t.now}
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS agent_devices`);
}
