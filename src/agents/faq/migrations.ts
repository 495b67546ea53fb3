import type { Knex } from "knex";
import { ddlTypes, type Migration } from "../kit";

/**
 * The FAQ agent's tables (recorded as `faq/<name>`). `scope` is a room id, or "*" for the
 * global entries; keys are stored normalised (see keys.ts).
 */
export const FAQ_MIGRATIONS: Migration[] = [
  {
    name: "001_faq",
    async up(knex: Knex) {
      const t = ddlTypes(knex);
      await knex.raw(`
        CREATE TABLE faq_entries (
          scope       text NOT NULL,
          key         text NOT NULL,
          display_key text NOT NULL,
          answer      text NOT NULL,
          version     integer NOT NULL,
          updated_by  text NOT NULL,
          updated_at  timestamptz NOT NULL DEFAULT ${t.now},
          PRIMARY KEY (scope, key)
        )`);
      await knex.raw(`
        CREATE TABLE faq_aliases (
          scope         text NOT NULL,
          alias         text NOT NULL,
          display_alias text NOT NULL,
          target        text NOT NULL,
          created_by    text NOT NULL,
          created_at    timestamptz NOT NULL DEFAULT ${t.now},
          PRIMARY KEY (scope, alias)
        )`);
      // Every change, numbered per key (n = 1, 2, …): `history` lists it, `revert` reads it.
      await knex.raw(`
        CREATE TABLE faq_history (
          id          ${t.serialKey},
          scope       text NOT NULL,
          key         text NOT NULL,
          n           integer NOT NULL,
          action      text NOT NULL
                      CONSTRAINT faq_history_action_check
                      CHECK (action IN ('set', 'delete', 'revert', 'import', 'alias', 'unalias')),
          display_key text NOT NULL,
          answer      text NULL,
          note        text NULL,
          actor       text NOT NULL,
          at          timestamptz NOT NULL DEFAULT ${t.now},
          CONSTRAINT faq_history_key_n_unique UNIQUE (scope, key, n)
        )`);
      await knex.raw(`
        CREATE TABLE faq_room_settings (
          room_id          text PRIMARY KEY,
          shortcut_enabled boolean NULL,
          updated_by       text NOT NULL,
          updated_at       timestamptz NOT NULL DEFAULT ${t.now}
        )`);
    },
    async down(knex: Knex) {
      await knex.raw(`DROP TABLE IF EXISTS faq_room_settings`);
      await knex.raw(`DROP TABLE IF EXISTS faq_history`);
      await knex.raw(`DROP TABLE IF EXISTS faq_aliases`);
      await knex.raw(`DROP TABLE IF EXISTS faq_entries`);
    },
  },
];
