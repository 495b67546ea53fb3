import type { Knex } from "knex";

/**
 * A homeserver that got no 200 (the bridge died after the claim committed) sends the same
 * transaction again: its crypto feed must not be stored twice (a replayed Olm message fails to
 * decrypt and is noise at best). Each feed row carries the digest of its payload; a row identical
 * to one not yet consumed is ignored (identical key counts or device-list changes are idempotent).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE crypto_feed ADD COLUMN digest text`);
  await knex.raw(`CREATE UNIQUE INDEX crypto_feed_digest_idx ON crypto_feed (user_id, digest)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS crypto_feed_digest_idx`);
  await knex.raw(`ALTER TABLE crypto_feed DROP COLUMN digest`);
}
