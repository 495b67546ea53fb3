import type { Knex } from "knex";
import { ddlTypes } from "../src/store/sqlDialect";

/**
 * The end-to-end encryption state of each agent device (see src/crypto/). `crypto_devices` names
 * the device and counts saves (a process that finds a newer version reloads before driving the
 * machine); `crypto_store` holds the machine's store, one sealed row per part (AES-GCM, key from
 * encryption.pickle_key); `crypto_feed` holds what a transaction brought for a device (to-device
 * messages, key counts, device-list changes), written in the transaction's claim before the
 * homeserver gets its 200, and deleted in the save that consumed it.
 */
export async function up(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
  await knex.raw(`
    CREATE TABLE crypto_devices (
      user_id      text PRIMARY KEY,
      device_id    text NOT NULL,
      version      bigint NOT NULL DEFAULT 0,
      cross_signed boolean NOT NULL DEFAULT false,
      created_at   timestamptz NOT NULL DEFAULT ${t.now},
      updated_at   timestamptz NOT NULL DEFAULT ${t.now}
    )`);
  await knex.raw(`
    CREATE TABLE crypto_store (
      user_id text NOT NULL,
      part    text NOT NULL,
      data    bytea NOT NULL,
      PRIMARY KEY (user_id, part)
    )`);
  await knex.raw(`
    CREATE TABLE crypto_feed (
      seq         ${t.serialKey},
      user_id     text NOT NULL,
      device_id   text NOT NULL,
      payload     text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT ${t.now}
    )`);
  await knex.raw(`CREATE INDEX crypto_feed_user_idx ON crypto_feed (user_id, seq)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS crypto_feed`);
  await knex.raw(`DROP TABLE IF EXISTS crypto_store`);
  await knex.raw(`DROP TABLE IF EXISTS crypto_devices`);
}
