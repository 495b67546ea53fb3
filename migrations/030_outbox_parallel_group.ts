import type { Knex } from "knex";

/**
 * Messages that may be sent at the same time as their neighbours in the room (see
 * src/queue/parallelGroup.ts): a scheduled delivery's messages carry its item's id. NULL (every
 * reply to a command, and every row written before this migration) keeps the room's strict order.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE outbox ADD COLUMN parallel_group text`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE outbox DROP COLUMN parallel_group`);
}
