import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/**
 * To-device catch-up (src/crypto/toDeviceCatchUp.ts). Synapse drops the to-device messages of a
 * transaction that failed (and of every one built while it marks the appservice down), but keeps
 * them in its device inbox until the device acknowledges them through /sync. The bridge reads
 * them back with a masqueraded /sync: `crypto_sync_since` is each device's since token (it
 * acknowledges what came before); `crypto_to_device_seen` holds a digest of every to-device
 * message taken in (from a transaction or from /sync), so a message that comes both ways reaches
 * the machine once.
 */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE crypto_sync_since (
      user_id    text PRIMARY KEY,
      device_id  text NOT NULL,
      since      text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT ${t.now}
    )`);
  await knex.raw(`
    CREATE TABLE crypto_to_device_seen (
      user_id text NOT NULL,
      digest  text NOT NULL,
      seen_at timestamptz NOT NULL DEFAULT ${t.now},
      PRIMARY KEY (user_id, digest)
    )`);
  await knex.raw(`CREATE INDEX crypto_to_device_seen_age_idx ON crypto_to_device_seen (user_id, seen_at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS crypto_to_device_seen`);
  await knex.raw(`DROP TABLE IF EXISTS crypto_sync_since`);
}
