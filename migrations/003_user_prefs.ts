import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/** Per-user preferences shared by agents (a user's timezone applies to reminders and timers alike). */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE user_prefs (
      user_id    text PRIMARY KEY,
      timezone   text NULL,
      updated_at timestamptz NOT NULL DEFAULT ${t.now}
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS user_prefs`);
}
