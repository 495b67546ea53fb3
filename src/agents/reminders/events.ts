import { moduleLogger } from "../../logging/logger";
import type { DueContext, ReactionContext, RedactionContext, RoomUpgradeContext } from "../types";
import { mayMentionRoom } from "./commands";
import { remindersConfig } from "./config";
import { deliveryText } from "./format";
import { nextOccurrence, occurrencesBetween } from "./recurrence";
import { ReminderStore, sentEventIds } from "./store";

const log = moduleLogger("agents/reminders/events");

/** 👍 in any skin tone, with or without the emoji variation selector. */
export function isThumbsUp(key: string): boolean {
  return /^\u{1F44D}[\u{1F3FB}-\u{1F3FF}]?\uFE0F?$/u.test(key.trim()) || key.trim() === "+1";
}

/** 👍 on a confirmation (or a delivery) of an active reminder subscribes the reactor. */
export async function onReaction(ctx: ReactionContext): Promise<void> {
  if (!isThumbsUp(ctx.key)) return;
  const store = new ReminderStore(ctx.db);
  const found = await store.reminderForEvent(ctx.targetEventId, ctx.roomId, (ids) =>
    sentEventIds(ctx.sentEventId, ids),
  );
  if (!found) return;
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

/**
 * A reminder falls due: deliver it (m.text, mentioning owner and subscribers so their clients
 * notify them), say how late it is after downtime, and schedule the next time of a recurring one.
 */
export async function onDue(ctx: DueContext): Promise<void> {
  const config = remindersConfig(ctx.config);
  const reminderId = String(ctx.payload.reminderId ?? "");
  const snooze = ctx.payload.snooze === true;
  const store = new ReminderStore(ctx.db);
  const r = await store.getForUpdate(reminderId);
  // Cancelled, or an item this reminder no longer uses (moved or replaced): nothing to do.
  if (!r || r.status !== "active" || (snooze ? r.snoozeItemId : r.itemId) !== ctx.itemId) {
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
  if (r.recurrence && !snooze) {
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
    }),
    msgtype: "m.text",
    mentions,
    mentionRoom,
  });
  await store.addMessage(outboxId, r.id, r.roomId, "delivery");
  if (snooze) {
    await store.markSnoozeFired(r.id, ctx.now);
  } else {
    await store.markFired(r.id, ctx.now, next);
    if (next) ctx.repeatAt(next);
  }
  ctx.log.info({ reminderId: r.id, lateMs: ctx.lateMs, next: next?.toISOString() }, "Reminder delivered");
}
