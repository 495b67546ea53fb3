import type { Knex } from "knex";

/**
 * Finds a room's unhandled events quickly. Before handling an event, a bridge that shares its
 * PostgreSQL database with other processes handles the room's earlier unhandled events first
 * (EventPipeline, orderAcrossProcesses); the index holds only claimed rows, so it stays small.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE INDEX inbound_events_claimed_room_idx ON inbound_events (room_id, seq) WHERE status = 'claimed'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS inbound_events_claimed_room_idx`);
}
