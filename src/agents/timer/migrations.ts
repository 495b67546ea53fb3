import type { Knex } from "knex";
import { ddlTypes, type Migration } from "../kit";

/**
 * Timers (recorded as `timer/<name>`). A running timer has `due_at` and the id of its item in
 * the shared scheduler; a paused one has `remaining_ms` and no item. Ended or cancelled
 * timers are deleted.
 */
export const TIMER_MIGRATIONS: Migration[] = [
  {
    name: "001_timers",
    async up(knex: Knex) {
      const t = ddlTypes(knex);
      await knex.raw(`
        CREATE TABLE timers (
          id              text PRIMARY KEY,
          owner           text NOT NULL,
          room_id         text NOT NULL,
          name            text NULL,
          duration_ms     bigint NOT NULL,
          status          text NOT NULL
                          CONSTRAINT timers_status_check CHECK (status IN ('running', 'paused')),
          due_at          timestamptz NULL,
          remaining_ms    bigint NULL,
          item_id         uuid NULL,
          source_event_id text NULL,
          created_at      timestamptz NOT NULL DEFAULT ${t.now}
        )`);
      await knex.raw(`CREATE INDEX timers_owner_idx ON timers (owner, created_at)`);
      await knex.raw(`CREATE INDEX timers_room_idx ON timers (room_id)`);
    },
    async down(knex: Knex) {
      await knex.raw(`DROP TABLE IF EXISTS timers`);
    },
  },
  {
    // A timer started in a thread rings there; an edited command finds the timer it started.
    name: "002_conversation",
    async up(knex: Knex) {
      await knex.raw(`ALTER TABLE timers ADD COLUMN thread_root text NULL`);
      await knex.raw(`CREATE INDEX timers_source_event_idx ON timers (source_event_id)`);
    },
    async down(knex: Knex) {
      await knex.raw(`DROP INDEX IF EXISTS timers_source_event_idx`);
      await knex.raw(`ALTER TABLE timers DROP COLUMN thread_root`);
    },
  },
];
