import type { Knex } from "knex";
import { ddlTypes, type Migration } from "../kit";

/**
 * The Reminders agent's tables (recorded as `reminders/<name>`). Due times themselves live in
 * the core scheduler (scheduled_items); `item_id` links a reminder to its scheduled item.
 */
async function up001(knex: Knex): Promise<void> {
  const t = ddlTypes(knex);
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
      created_at      timestamptz NOT NULL DEFAULT ${t.now},
      updated_at      timestamptz NOT NULL DEFAULT ${t.now}
    )`);
  await knex.raw(`CREATE INDEX reminders_owner_status_idx ON reminders (owner, status)`);
  await knex.raw(`CREATE INDEX reminders_room_status_idx ON reminders (room_id, status)`);

  // People who reacted 👍 to the confirmation; the reaction's id lets its redaction unsubscribe.
  await knex.raw(`
    CREATE TABLE reminder_subscribers (
      reminder_id       text NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
      user_id           text NOT NULL,
      reaction_event_id text NULL,
      created_at        timestamptz NOT NULL DEFAULT ${t.now},
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
      created_at  timestamptz NOT NULL DEFAULT ${t.now}
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
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  for (const column of [
    "thread_root    text NULL",
    "quote_event_id text NULL",
    "quote_sender   text NULL",
    "until_ack      boolean NOT NULL DEFAULT false",
    "nag_item_id    uuid NULL",
    "nag_count      integer NOT NULL DEFAULT 0",
  ]) {
    await knex.raw(`ALTER TABLE reminders ADD COLUMN ${column}`);
  }
  // An edited command finds the reminder its original created.
  await knex.raw(`CREATE INDEX reminders_source_event_idx ON reminders (source_event_id)`);
}

async function down002(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS reminders_source_event_idx`);
  for (const column of [
    "thread_root",
    "quote_event_id",
    "quote_sender",
    "until_ack",
    "nag_item_id",
    "nag_count",
  ]) {
    await knex.raw(`ALTER TABLE reminders DROP COLUMN ${column}`);
  }
}

/** In order; never rename one (names are recorded in the migration table). */
export const REMINDERS_MIGRATIONS: Migration[] = [
  { name: "001_reminders", up: up001, down: down001 },
  { name: "002_conversation", up: up002, down: down002 },
];
