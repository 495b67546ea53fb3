import type { Knex } from "knex";
import type { Migration } from "../kit";

/**
 * The Reminders agent's tables (recorded as `reminders/<name>`). Due times themselves live in
 * the core scheduler (scheduled_items); `item_id` links a reminder to its scheduled item.
 */
async function up001(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE reminders (
      id              text PRIMARY KEY,
      owner           text NOT NULL,
      room_id         text NOT NULL,
      message         text NOT NULL,
      status          text NOT NULL DEFAULT 'active'
                      CONSTRAINT reminders_status_check CHECK (status IN ('active', 'done', 'cancelled')),
      mention_room    boolean NOT NULL DEFAULT false,
      recurrence      jsonb NULL,
      zone            text NOT NULL,
      next_due_at     timestamptz NULL,
      item_id         uuid NULL,
      snooze_item_id  uuid NULL,
      snooze_due_at   timestamptz NULL,
      fired_count     integer NOT NULL DEFAULT 0,
      last_fired_at   timestamptz NULL,
      source_event_id text NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw(`CREATE INDEX reminders_owner_status_idx ON reminders (owner, status)`);
  await knex.raw(`CREATE INDEX reminders_room_status_idx ON reminders (room_id, status)`);

  // People who reacted 👍 to the confirmation; the reaction's id lets its redaction unsubscribe.
  await knex.raw(`
    CREATE TABLE reminder_subscribers (
      reminder_id       text NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
      user_id           text NOT NULL,
      reaction_event_id text NULL,
      created_at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (reminder_id, user_id)
    )`);
  await knex.raw(
    `CREATE INDEX reminder_subscribers_reaction_idx ON reminder_subscribers (reaction_event_id)`,
  );

  // Our messages about a reminder (confirmation, deliveries), so that a reaction or a reply
  // ("cancel") to one finds its reminder. The Matrix event id is known only once the outbox
  // has sent the message, so it is filled in lazily.
  await knex.raw(`
    CREATE TABLE reminder_messages (
      outbox_id   uuid PRIMARY KEY,
      reminder_id text NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
      room_id     text NOT NULL,
      kind        text NOT NULL
                  CONSTRAINT reminder_messages_kind_check CHECK (kind IN ('confirmation', 'delivery')),
      event_id    text NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw(`CREATE INDEX reminder_messages_event_idx ON reminder_messages (event_id)`);
  await knex.raw(
    `CREATE INDEX reminder_messages_unresolved_idx ON reminder_messages (room_id, created_at) WHERE event_id IS NULL`,
  );
}

async function down001(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS reminder_messages`);
  await knex.raw(`DROP TABLE IF EXISTS reminder_subscribers`);
  await knex.raw(`DROP TABLE IF EXISTS reminders`);
}

/**
 * Conversation habits: the thread a reminder was set in (it fires there), the message it was
 * set in reply to (quoted and linked when it fires), and `--until-ack` repeats.
 */
async function up002(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE reminders
      ADD COLUMN thread_root    text NULL,
      ADD COLUMN quote_event_id text NULL,
      ADD COLUMN quote_sender   text NULL,
      ADD COLUMN until_ack      boolean NOT NULL DEFAULT false,
      ADD COLUMN nag_item_id    uuid NULL,
      ADD COLUMN nag_count      integer NOT NULL DEFAULT 0`);
  // An edited command finds the reminder its original created.
  await knex.raw(`CREATE INDEX reminders_source_event_idx ON reminders (source_event_id)`);
}

async function down002(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS reminders_source_event_idx`);
  await knex.raw(`
    ALTER TABLE reminders
      DROP COLUMN thread_root, DROP COLUMN quote_event_id, DROP COLUMN quote_sender,
      DROP COLUMN until_ack, DROP COLUMN nag_item_id, DROP COLUMN nag_count`);
}

/** In order; never rename one (names are recorded in the migration table). */
export const REMINDERS_MIGRATIONS: Migration[] = [
  { name: "001_reminders", up: up001, down: down001 },
  { name: "002_conversation", up: up002, down: down002 },
];
