import { agentLogger, isCheckMark, nextOccurrence, occurrencesBetween, permalink, rezone } from "../kit";
import type {
  DueContext,
  ReactionContext,
  RedactionContext,
  RoomUpgradeContext,
  TimezoneChangeContext,
} from "../types";
import { mayMentionRoom } from "./commands";
import { remindersConfig } from "./config";
import { MAX_NAGS, NAG_MINUTES, deliveryText } from "./format";
import { ReminderStore, sentEventIds, type Reminder } from "./store";

const log = agentLogger("agents/reminders/events");

/** 👍 in any skin tone, with or without the emoji variation selector. */
export function isThumbsUp(key: string): boolean {
  return /^\u{1F44D}[\u{1F3FB}-\u{1F3FF}]?\uFE0F?$/u.test(key.trim()) || key.trim() === "+1";
}

/**
 * 👍 on a confirmation (or a delivery) of an active reminder subscribes the reactor; ✅ from
 * the owner on a delivery of an `--until-ack` reminder stops its repeats.
 */
export async function onReaction(ctx: ReactionContext): Promise<void> {
  const check = isCheckMark(ctx.key);
  if (!isThumbsUp(ctx.key) && !check) return;
  const store = new ReminderStore(ctx.db);
  const found = await store.reminderForEvent(ctx.targetEventId, ctx.roomId, (ids) =>
    sentEventIds(ctx.sentEventId, ids),
  );
  if (!found) return;
  if (check) {
    const r = await store.getForUpdate(found.reminderId);
    if (r && r.owner === ctx.sender && r.nagItemId) {
      await ctx.schedule.cancel(r.nagItemId);
      await store.setNag(r.id, null, 0);
      log.info({ reminderId: r.id }, "Acknowledged with ✅; repeats stopped");
    }
    return;
  }
  const r = await store.get(found.reminderId);
  if (!r || r.status !== "active" || r.owner === ctx.sender) return;
  if (await store.subscribe(r.id, ctx.sender, ctx.event.event_id)) {
    log.info({ reminderId: r.id, userId: ctx.sender }, "Subscribed by reaction");
  }
}

/** Taking the 👍 back (redacting the reaction) unsubscribes. */
export async function onRedaction(ctx: RedactionContext): Promise<void> {
  const removed = await new ReminderStore(ctx.db).unsubscribeByReaction(ctx.redacts);
  if (removed) log.info({ ...removed }, "Unsubscribed: reaction removed");
}

/** Room upgrade: active reminders now fire in the new room. */
export async function onRoomUpgrade(ctx: RoomUpgradeContext): Promise<void> {
  const moved = await new ReminderStore(ctx.db).moveRoom(ctx.oldRoomId, ctx.newRoomId);
  if (!moved) return;
  log.info({ from: ctx.oldRoomId, to: ctx.newRoomId, moved }, "Reminders followed the room upgrade");
  await ctx.send(
    ctx.newRoomId,
    `This room replaced the old one, so ${moved} reminder${moved === 1 ? "" : "s"} will go off here from now on.`,
  );
}

/** The user's timezone changed: recurring reminders at a time of day follow it. */
export async function onTimezoneChanged(ctx: TimezoneChangeContext): Promise<string | void> {
  const store = new ReminderStore(ctx.db);
  let moved = 0;
  for (const r of await store.recurringForOwner(ctx.userId)) {
    const rec = rezone(r.recurrence!, ctx.zone, ctx.now);
    if (!rec) continue;
    const next = nextOccurrence(rec, ctx.now);
    if (!next) continue;
    await store.setRecurrence(r.id, rec, next);
    if (r.itemId) await ctx.schedule.reschedule(r.itemId, next);
    moved++;
  }
  if (moved) return `${moved} recurring reminder${moved === 1 ? " now follows" : "s now follow"} it.`;
}

/** `--until-ack`: the next repeat of a delivery, until the owner reacts ✅ or replies `done`. */
async function scheduleNag(ctx: DueContext, store: ReminderStore, r: Reminder, count: number): Promise<void> {
  if (r.nagItemId) await ctx.schedule.cancel(r.nagItemId);
  if (count > MAX_NAGS) {
    await store.setNag(r.id, null, 0);
    return;
  }
  const at = new Date(ctx.now.getTime() + NAG_MINUTES * 60_000);
  await store.setNag(r.id, await ctx.schedule.at(at, { reminderId: r.id, nag: count }), count);
}

/**
 * A reminder falls due: deliver it (m.text, mentioning owner and subscribers so their clients
 * notify them), say how late it is after downtime, and schedule the next time of a recurring one.
 */
export async function onDue(ctx: DueContext): Promise<void> {
  const config = remindersConfig(ctx.config);
  const reminderId = String(ctx.payload.reminderId ?? "");
  const snooze = ctx.payload.snooze === true;
  const nag = typeof ctx.payload.nag === "number" ? ctx.payload.nag : 0;
  const store = new ReminderStore(ctx.db);
  const r = await store.getForUpdate(reminderId);
  const current = nag ? r?.nagItemId : snooze ? r?.snoozeItemId : r?.itemId;
  // Cancelled, or an item this reminder no longer uses (moved, replaced, acknowledged): nothing to do.
  if (!r || r.status === "cancelled" || (!nag && r.status !== "active") || current !== ctx.itemId) {
    ctx.log.info({ reminderId, itemId: ctx.itemId, status: r?.status }, "Stale reminder item; skipped");
    return;
  }
  const subscribers = await store.subscribers(r.id);
  let mentionRoom = r.mentionRoom;
  let roomMentionDropped = false;
  if (r.mentionRoom) {
    try {
      const check = await mayMentionRoom(ctx, r.roomId, r.owner);
      mentionRoom = check.allowed;
      roomMentionDropped = !check.allowed;
    } catch (err) {
      // Checked when the reminder was set; keep that answer if the homeserver cannot say now.
      ctx.log.warn({ reminderId, err: (err as Error).message }, "Could not re-check the @room permission");
    }
  }
  const late = ctx.lateMs > config.late_note_seconds * 1000;
  let next: Date | null = null;
  let missed = 0;
  if (r.recurrence && !snooze && !nag) {
    next = nextOccurrence(r.recurrence, new Date(Math.max(ctx.now.getTime(), ctx.dueAt.getTime())));
    if (late) missed = occurrencesBetween(r.recurrence, ctx.dueAt, ctx.now);
  }
  const zone = r.recurrence?.zone ?? r.zone;
  const mentions = [r.owner, ...subscribers.filter((u) => u !== r.owner)];
  const outboxId = await ctx.send(r.roomId, {
    markdown: deliveryText({
      reminder: r,
      subscribers,
      mentionRoom,
      roomMentionDropped,
      lateMs: ctx.lateMs,
      lateNoteMs: config.late_note_seconds * 1000,
      missed,
      next,
      zone,
      snooze,
      nag,
      quoteLink: r.quote ? permalink(r.roomId, r.quote.eventId) : undefined,
    }),
    msgtype: "m.text",
    mentions,
    mentionRoom,
    threadId: r.threadRoot ?? undefined,
  });
  await store.addMessage(outboxId, r.id, r.roomId, "delivery");
  if (r.untilAck) await scheduleNag(ctx, store, r, nag + 1);
  if (nag) return;
  if (snooze) {
    await store.markSnoozeFired(r.id, ctx.now);
  } else {
    await store.markFired(r.id, ctx.now, next);
    if (next) ctx.repeatAt(next);
  }
  ctx.log.info({ reminderId: r.id, lateMs: ctx.lateMs, next: next?.toISOString() }, "Reminder delivered");
}
