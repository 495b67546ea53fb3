import { agentLogger, storableText, toJsonb, type Queryable, type Recurrence } from "../kit";
import { newReminderId } from "./ids";
import { nextFiring, toReminder, type NewReminder, type Reminder, type Row } from "./model";

const log = agentLogger("agents/reminders/store");

export { nextFiring, type NewReminder, type Reminder, type ReminderStatus } from "./model";

/**
 * The agent's tables. Every method runs on the handle it was built with: in handlers that is
 * the event's (or scheduled item's) transaction, so writes commit with the rest of the event.
 */
export class ReminderStore {
  constructor(
    private readonly db: Queryable,
    private readonly newId: () => string = newReminderId,
  ) {}

  /** Inserts with a fresh short id (retrying on the rare collision). */
  async create(input: NewReminder): Promise<Reminder> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const id = this.newId();
      const rows = (await this.db("reminders")
        .insert({
          id,
          owner: input.owner,
          room_id: input.roomId,
          message: storableText(input.message),
          mention_room: input.mentionRoom,
          recurrence: input.recurrence ? toJsonb(input.recurrence) : null,
          zone: input.zone,
          next_due_at: input.nextDueAt,
          source_event_id: input.sourceEventId ?? null,
          thread_root: input.threadRoot ?? null,
          quote_event_id: input.quote?.eventId ?? null,
          quote_sender: input.quote?.sender ?? null,
          until_ack: input.untilAck ?? false,
        })
        .onConflict("id")
        .ignore()
        .returning("*")) as Row[];
      if (rows.length) return toReminder(rows[0]);
      log.debug({ id }, "reminder id collision; picking another");
    }
    throw new Error("Could not find a free reminder id after 20 attempts");
  }

  async get(id: string): Promise<Reminder | null> {
    const row = (await this.db("reminders").where({ id }).first()) as Row | undefined;
    return row ? toReminder(row) : null;
  }

  /** Reads and locks the row until the transaction ends (serialises firing against cancel). */
  async getForUpdate(id: string): Promise<Reminder | null> {
    const row = (await this.db("reminders").where({ id }).forUpdate().first()) as Row | undefined;
    return row ? toReminder(row) : null;
  }

  private async update(id: string, fields: Record<string, unknown>): Promise<void> {
    await this.db("reminders")
      .where({ id })
      .update({ ...fields, updated_at: this.db.fn.now() });
  }

  setItem(id: string, itemId: string): Promise<void> {
    return this.update(id, { item_id: itemId });
  }

  async countActive(owner: string): Promise<number> {
    const row = await this.db("reminders").where({ owner, status: "active" }).count({ n: "*" }).first();
    return Number(row?.n ?? 0);
  }

  /** A user's active reminders, soonest first; only those in `roomId` when given. */
  async listForOwner(owner: string, roomId?: string): Promise<Reminder[]> {
    const q = this.db("reminders").where({ owner, status: "active" });
    if (roomId) q.andWhere({ room_id: roomId });
    return this.sorted((await q) as Row[]);
  }

  /** Everyone's active reminders in a room, soonest first. */
  async listForRoom(roomId: string): Promise<Reminder[]> {
    return this.sorted((await this.db("reminders").where({ room_id: roomId, status: "active" })) as Row[]);
  }

  private sorted(rows: Row[]): Reminder[] {
    const key = (r: Reminder) => nextFiring(r)?.getTime() ?? Infinity;
    return rows.map(toReminder).sort((a, b) => key(a) - key(b) || a.id.localeCompare(b.id));
  }

  /** Active recurring reminders of a user (their zone follows the user's `tz`). */
  async recurringForOwner(owner: string): Promise<Reminder[]> {
    const rows = (await this.db("reminders")
      .where({ owner, status: "active" })
      .whereNotNull("recurrence")) as Row[];
    return rows.map(toReminder);
  }

  cancel(id: string): Promise<void> {
    return this.update(id, {
      status: "cancelled",
      snooze_item_id: null,
      snooze_due_at: null,
      nag_item_id: null,
    });
  }

  /** Active reminders an earlier command created (an edit of that command replaces them). */
  async activeFromSource(sourceEventId: string, owner: string): Promise<Reminder[]> {
    const rows = (await this.db("reminders")
      .where({ source_event_id: sourceEventId, owner, status: "active" })
      .forUpdate()) as Row[];
    return rows.map(toReminder);
  }

  /** `--until-ack`: the pending repeat of the latest firing, and how many were sent. */
  setNag(id: string, itemId: string | null, count: number): Promise<void> {
    return this.update(id, { nag_item_id: itemId, nag_count: count });
  }

  /** After a regular firing: the next due time, or done. */
  markFired(id: string, firedAt: Date, next: Date | null): Promise<void> {
    return this.update(id, {
      fired_count: this.db.raw("fired_count + 1"),
      last_fired_at: firedAt,
      next_due_at: next,
      ...(next ? {} : { status: "done", item_id: null }),
    });
  }

  /** After a snooze firing of a recurring reminder. */
  markSnoozeFired(id: string, firedAt: Date): Promise<void> {
    return this.update(id, {
      fired_count: this.db.raw("fired_count + 1"),
      last_fired_at: firedAt,
      snooze_item_id: null,
      snooze_due_at: null,
    });
  }

  /** A one-off reminder moved (snooze) or brought back after it fired. */
  reschedule(id: string, dueAt: Date, itemId: string): Promise<void> {
    return this.update(id, { status: "active", next_due_at: dueAt, item_id: itemId });
  }

  setSnooze(id: string, itemId: string, dueAt: Date): Promise<void> {
    return this.update(id, { snooze_item_id: itemId, snooze_due_at: dueAt });
  }

  setRecurrence(id: string, recurrence: Recurrence, next: Date): Promise<void> {
    return this.update(id, { recurrence: toJsonb(recurrence), zone: recurrence.zone, next_due_at: next });
  }

  /** Room upgrade: active reminders follow to the new room. Returns how many moved. */
  async moveRoom(oldRoomId: string, newRoomId: string): Promise<number> {
    const rows = await this.db("reminders")
      .where({ room_id: oldRoomId, status: "active" })
      .update({ room_id: newRoomId, updated_at: this.db.fn.now() })
      .returning("id");
    return rows.length;
  }

  // ---- subscribers ----

  /** Adds (or refreshes) a subscriber; false when they were already subscribed. */
  async subscribe(reminderId: string, userId: string, reactionEventId: string | null): Promise<boolean> {
    const rows = await this.db("reminder_subscribers")
      .insert({ reminder_id: reminderId, user_id: userId, reaction_event_id: reactionEventId })
      .onConflict(["reminder_id", "user_id"])
      .ignore()
      .returning("user_id");
    if (!rows.length && reactionEventId) {
      await this.db("reminder_subscribers")
        .where({ reminder_id: reminderId, user_id: userId })
        .update({ reaction_event_id: reactionEventId });
    }
    return rows.length > 0;
  }

  async unsubscribe(reminderId: string, userId: string): Promise<boolean> {
    const rows = await this.db("reminder_subscribers")
      .where({ reminder_id: reminderId, user_id: userId })
      .delete()
      .returning("user_id");
    return rows.length > 0;
  }

  /** The reaction that subscribed someone was redacted: drop that subscription. */
  async unsubscribeByReaction(
    reactionEventId: string,
  ): Promise<{ reminderId: string; userId: string } | null> {
    const rows = (await this.db("reminder_subscribers")
      .where({ reaction_event_id: reactionEventId })
      .delete()
      .returning(["reminder_id", "user_id"])) as { reminder_id: string; user_id: string }[];
    return rows.length ? { reminderId: rows[0].reminder_id, userId: rows[0].user_id } : null;
  }

  async subscribers(reminderId: string): Promise<string[]> {
    const rows = (await this.db("reminder_subscribers")
      .where({ reminder_id: reminderId })
      .orderBy("created_at")
      .select("user_id")) as { user_id: string }[];
    return rows.map((r) => r.user_id);
  }

  async subscriberCounts(reminderIds: string[]): Promise<Map<string, number>> {
    if (!reminderIds.length) return new Map();
    const rows = (await this.db("reminder_subscribers")
      .whereIn("reminder_id", reminderIds)
      .groupBy("reminder_id")
      .select("reminder_id")
      .count({ n: "*" })) as { reminder_id: string; n: string | number }[];
    return new Map(rows.map((r) => [r.reminder_id, Number(r.n)]));
  }

  // ---- our messages about reminders ----

  async addMessage(
    outboxId: string,
    reminderId: string,
    roomId: string,
    kind: "confirmation" | "delivery",
  ): Promise<void> {
    await this.db("reminder_messages").insert({
      outbox_id: outboxId,
      reminder_id: reminderId,
      room_id: roomId,
      kind,
    });
  }

  /**
   * The reminder one of our messages in `roomId` was about, by the message's Matrix event id.
   * Messages whose event id is not known yet are looked up through `resolve` (outbox id →
   * sent event id) and remembered.
   */
  async reminderForEvent(
    eventId: string,
    roomId: string,
    resolve: (outboxIds: string[]) => Promise<Map<string, string>>,
  ): Promise<{ reminderId: string; kind: "confirmation" | "delivery" } | null> {
    type MessageRow = { outbox_id: string; reminder_id: string; kind: "confirmation" | "delivery" };
    const known = (await this.db("reminder_messages")
      .where({ event_id: eventId, room_id: roomId })
      .first()) as MessageRow | undefined;
    if (known) return { reminderId: known.reminder_id, kind: known.kind };
    const pending = (await this.db("reminder_messages")
      .where({ room_id: roomId })
      .whereNull("event_id")
      .orderBy("created_at", "desc")
      .limit(500)) as MessageRow[];
    if (!pending.length) return null;
    const sent = await resolve(pending.map((p) => p.outbox_id));
    let found: MessageRow | undefined;
    for (const p of pending) {
      const id = sent.get(p.outbox_id);
      if (!id) continue;
      await this.db("reminder_messages").where({ outbox_id: p.outbox_id }).update({ event_id: id });
      if (id === eventId) found = p;
    }
    return found ? { reminderId: found.reminder_id, kind: found.kind } : null;
  }
}

/** Matrix event ids of the outbox rows that were sent already (`lookup` is ctx.sentEventId). */
export async function sentEventIds(
  lookup: (outboxId: string) => Promise<string | null>,
  outboxIds: string[],
): Promise<Map<string, string>> {
  const found = await Promise.all(outboxIds.map(async (id) => [id, await lookup(id)] as const));
  return new Map(found.filter((entry): entry is readonly [string, string] => entry[1] !== null));
}
