import { UserInputError } from "../../errors";
import { moduleLogger } from "../../logging/logger";
import type { CommandContext, EventContext } from "../types";
import { parseCommand, type Command } from "./command";
import { remindersConfig, type RemindersConfig } from "./config";
import { confirmationText, formatInstant, formatWhen, listText } from "./format";
import { addDuration, parseReminder, parseSnooze } from "./parse";
import { nextOccurrence, type Recurrence } from "./recurrence";
import { ReminderStore, sentEventIds, type Reminder } from "./store";
import { canonicalZone, inZone, nextTimeOfDay } from "./time";

const log = moduleLogger("agents/reminders/commands");

export const DEFAULT_SNOOZE = "15m";

type Ctx = CommandContext;

/** Whether `ctx.sender` may notify the whole room: the room's notifications.room power level. */
export async function mayMentionRoom(ctx: Pick<EventContext, "rooms">, roomId: string, userId: string) {
  const [have, need] = await Promise.all([
    ctx.rooms.powerLevel(roomId, userId),
    ctx.rooms.requiredLevel(roomId, "room_mention"),
  ]);
  return { allowed: have >= need, have, need };
}

export async function handleCommand(ctx: Ctx, help: string): Promise<void> {
  const config = remindersConfig(ctx.config);
  const command = parseCommand(ctx.args);
  const store = new ReminderStore(ctx.db);
  switch (command.kind) {
    case "help":
      await ctx.reply(help);
      return;
    case "set":
      return setReminder(ctx, store, config, command);
    case "list":
      return list(ctx, store, command.scope);
    case "cancel":
      return cancel(ctx, store, command.ids);
    case "snooze":
      return snooze(ctx, store, config, command);
    case "tz":
      return timezone(ctx, store, command.zone);
  }
}

async function setReminder(
  ctx: Ctx,
  store: ReminderStore,
  config: RemindersConfig,
  command: Extract<Command, { kind: "set" }>,
): Promise<void> {
  if (command.spec.length > config.max_message_length + 200) {
    throw new UserInputError(
      `That is too long: a reminder's text may have at most ${config.max_message_length} characters.`,
    );
  }
  if (command.mentionRoom) {
    if (ctx.isDirect) {
      throw new UserInputError(
        "`room` reminders notify everyone in a group room. Here in our DM, just leave out `room`.",
      );
    }
    const check = await mayMentionRoom(ctx, ctx.roomId, ctx.sender);
    if (!check.allowed) {
      throw new UserInputError(
        `Notifying the whole room (@room) needs power level ${check.need} here, and yours is ${check.have}. ` +
          "Leave out `room` to be reminded yourself, or ask a moderator to set it.",
      );
    }
  }
  const zone = await ctx.users.timezone(ctx.sender);
  const parsed = parseReminder(command.spec, {
    now: ctx.now,
    zone,
    minIntervalMs: config.min_interval_seconds * 1000,
  });
  if (parsed.message.length > config.max_message_length) {
    throw new UserInputError(
      `That reminder is ${parsed.message.length} characters long; the limit is ${config.max_message_length}.`,
    );
  }
  await checkActiveLimit(store, config, ctx.sender);
  const reminder = await store.create({
    owner: ctx.sender,
    roomId: ctx.roomId,
    message: parsed.message,
    mentionRoom: command.mentionRoom,
    recurrence: parsed.recurrence,
    zone,
    nextDueAt: parsed.dueAt,
    sourceEventId: ctx.event.event_id,
  });
  await store.setItem(reminder.id, await ctx.schedule.at(parsed.dueAt, { reminderId: reminder.id }));
  const outboxId = await ctx.reply(
    confirmationText({ ...reminder, dueAt: parsed.dueAt, zone, now: ctx.now, message: parsed.message }),
  );
  await store.addMessage(outboxId, reminder.id, ctx.roomId, "confirmation");
  ctx.log.info({ reminderId: reminder.id, dueAt: parsed.dueAt.toISOString() }, "Reminder set");
}

async function checkActiveLimit(store: ReminderStore, config: RemindersConfig, owner: string) {
  const active = await store.countActive(owner);
  if (active >= config.max_active_per_user) {
    throw new UserInputError(
      `You already have ${active} active reminders, the most I keep per person. ` +
        "Cancel some first (`list` shows them, `cancel <id>` removes one).",
    );
  }
}

async function list(ctx: Ctx, store: ReminderStore, scope: "mine" | "room"): Promise<void> {
  const zone = await ctx.users.timezone(ctx.sender);
  let reminders: Reminder[];
  let title: string;
  if (scope === "room") {
    reminders = await store.listForRoom(ctx.roomId);
    title = "Reminders in this room";
  } else if (ctx.isDirect) {
    reminders = await store.listForOwner(ctx.sender);
    title = "Your reminders";
  } else {
    // In a group room, only this room's: the others may be private.
    reminders = await store.listForOwner(ctx.sender, ctx.roomId);
    title = "Your reminders in this room";
  }
  const subscriberCounts = await store.subscriberCounts(reminders.map((r) => r.id));
  await ctx.reply(
    listText(reminders, {
      zone,
      now: ctx.now,
      viewer: ctx.sender,
      roomId: ctx.roomId,
      subscriberCounts,
      title,
    }),
  );
}

/** The reminder a reply is about ("cancel" or "snooze 15m" in reply to one of our messages). */
async function repliedReminder(ctx: Ctx, store: ReminderStore, usage: string): Promise<string> {
  if (!ctx.inReplyTo) {
    throw new UserInputError(`Which reminder? ${usage}`);
  }
  const found = await store.reminderForEvent(ctx.inReplyTo, ctx.roomId, (ids) =>
    sentEventIds(ctx.sentEventId, ids),
  );
  if (!found) throw new UserInputError(`That message is not one of my reminders. ${usage}`);
  return found.reminderId;
}

/** Owner or bridge admin; in the reminder's own room, also whoever may change room state. */
async function mayManage(ctx: Ctx, r: Reminder): Promise<boolean> {
  if (r.owner === ctx.sender || ctx.rooms.isBridgeAdmin(ctx.sender)) return true;
  if (ctx.isDirect || r.roomId !== ctx.roomId) return false;
  try {
    const [have, need] = await Promise.all([
      ctx.rooms.powerLevel(ctx.roomId, ctx.sender),
      ctx.rooms.requiredLevel(ctx.roomId, "state_default"),
    ]);
    return have >= need;
  } catch (err) {
    log.warn({ err: (err as Error).message }, "Could not read power levels; only the owner may cancel");
    return false;
  }
}

async function cancel(ctx: Ctx, store: ReminderStore, ids: string[]): Promise<void> {
  const usage = "Use `cancel <id>` (`list` shows the ids), or reply `cancel` to my confirmation.";
  const targets = ids.length ? ids : [await repliedReminder(ctx, store, usage)];
  const lines: string[] = [];
  for (const id of targets) {
    const r = await store.getForUpdate(id);
    if (!r || r.status !== "active") {
      lines.push(
        r?.status === "done"
          ? `\`${id}\` already went off.`
          : `I have no active reminder \`${id}\`. ${usage}`,
      );
    } else if (await mayManage(ctx, r)) {
      for (const item of [r.itemId, r.snoozeItemId]) if (item) await ctx.schedule.cancel(item);
      await store.cancel(r.id);
      lines.push(`Cancelled \`${r.id}\`: ${r.message.split("\n")[0]}`);
    } else if (await store.unsubscribe(r.id, ctx.sender)) {
      lines.push(`You will no longer be reminded by \`${r.id}\` (it stays on for ${r.owner}).`);
    } else {
      lines.push(`\`${r.id}\` belongs to ${r.owner}; only they can cancel it.`);
    }
  }
  await ctx.reply(lines.join("\n"));
}

async function snooze(
  ctx: Ctx,
  store: ReminderStore,
  config: RemindersConfig,
  command: Extract<Command, { kind: "snooze" }>,
): Promise<void> {
  const usage = "Use `snooze <id> 15m`, or reply `snooze 15m` to one of my reminders.";
  const parts = parseSnooze(command.duration ?? DEFAULT_SNOOZE);
  const id = command.id ?? (await repliedReminder(ctx, store, usage));
  const r = await store.getForUpdate(id);
  if (!r || r.status === "cancelled") throw new UserInputError(`I have no reminder \`${id}\`. ${usage}`);
  if (!(await mayManage(ctx, r)))
    throw new UserInputError(`\`${r.id}\` belongs to ${r.owner}; only they can snooze it.`);
  const zone = await ctx.users.timezone(ctx.sender);
  let due: Date;
  if (r.recurrence && r.status === "active") {
    // A recurring reminder keeps its schedule; the snooze is one extra firing.
    due = addDuration(ctx.now, parts, zone);
    if (r.snoozeItemId) await ctx.schedule.cancel(r.snoozeItemId);
    await store.setSnooze(r.id, await ctx.schedule.at(due, { reminderId: r.id, snooze: true }), due);
  } else {
    // A one-off: push a pending one back, or bring a delivered one back.
    const pending = r.status === "active" && r.nextDueAt && r.nextDueAt > ctx.now;
    due = addDuration(pending ? r.nextDueAt! : ctx.now, parts, zone);
    let itemId = pending && r.itemId && (await ctx.schedule.reschedule(r.itemId, due)) ? r.itemId : null;
    if (!itemId) {
      if (r.status !== "active") await checkActiveLimit(store, config, r.owner);
      itemId = await ctx.schedule.at(due, { reminderId: r.id });
    }
    await store.reschedule(r.id, due, itemId);
  }
  const outboxId = await ctx.reply(`😴 Snoozed \`${r.id}\` until ${formatWhen(due, zone, ctx.now)}.`);
  await store.addMessage(outboxId, r.id, ctx.roomId, "confirmation");
}

async function timezone(ctx: Ctx, store: ReminderStore, name: string | undefined): Promise<void> {
  if (!name) {
    const zone = await ctx.users.timezone(ctx.sender);
    await ctx.reply(
      `Your timezone is **${zone}** (it is ${inZone(ctx.now, zone).toFormat("HH:mm")} there now). ` +
        "Change it with `tz <Area/City>`, e.g. `tz Europe/Berlin` or `tz America/New_York`.",
    );
    return;
  }
  const zone = canonicalZone(name);
  if (!zone) {
    throw new UserInputError(
      `“${name}” is not a timezone I know. Use an IANA name such as \`Europe/Berlin\`, \`America/New_York\` or \`UTC\` ` +
        "(see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).",
    );
  }
  await ctx.users.setTimezone(ctx.sender, zone);
  // Recurring reminders at a time of day follow the new zone; one-off times stay as confirmed.
  let moved = 0;
  for (const r of await store.recurringForOwner(ctx.sender)) {
    const rec = rezone(r.recurrence!, zone, ctx.now);
    if (!rec) continue;
    const next = nextOccurrence(rec, ctx.now);
    if (!next) continue;
    await store.setRecurrence(r.id, rec, next);
    if (r.itemId) await ctx.schedule.reschedule(r.itemId, next);
    moved++;
  }
  const follow = moved
    ? ` ${moved} recurring reminder${moved === 1 ? " now follows" : "s now follow"} it.`
    : "";
  await ctx.reply(
    `Your timezone is now **${zone}** (it is ${inZone(ctx.now, zone).toFormat("HH:mm")} there, ${formatInstant(ctx.now, zone)}).${follow}`,
  );
}

/** The recurrence read in another zone; undefined when it does not depend on the zone. */
export function rezone(rec: Recurrence, zone: string, now: Date): Recurrence | undefined {
  if (rec.zone === zone) return undefined;
  if (rec.type === "cron") return { ...rec, zone };
  if (!rec.atTime) return undefined;
  const [hour, minute] = rec.atTime.split(":").map(Number);
  return { ...rec, zone, anchor: nextTimeOfDay(now, zone, hour, minute).toISOString() };
}
