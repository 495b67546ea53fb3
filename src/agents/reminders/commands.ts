import { UserInputError, addDuration, agentLogger, capArguments, formatWhen } from "../kit";
import type { CommandContext, EventContext } from "../types";
import { parseCommand, type Command } from "./command";
import { remindersConfig, type RemindersConfig } from "./config";
import { confirmationText, listText } from "./format";
import { parseReminder, parseSnooze } from "./parse";
import { ReminderStore, sentEventIds, type Reminder } from "./store";

const log = agentLogger("agents/reminders/commands");

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
    case "done":
      return acknowledge(ctx, store, command.ids);
  }
}

async function setReminder(
  ctx: Ctx,
  store: ReminderStore,
  config: RemindersConfig,
  command: Extract<Command, { kind: "set" }>,
): Promise<void> {
  capArguments(command.spec, config.max_message_length + 200, "That reminder");
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
  // An edited command replaces what the original created (never a second reminder).
  const replaced = ctx.edit ? await store.activeFromSource(ctx.edit.originalEventId, ctx.sender) : [];
  const zone = await ctx.users.timezone(ctx.sender);
  let parsed;
  try {
    parsed = parseReminder(command.spec, {
      now: ctx.now,
      zone,
      minIntervalMs: config.min_interval_seconds * 1000,
    });
  } catch (err) {
    if (err instanceof UserInputError && replaced.length) {
      throw new UserInputError(
        `${err.message}\n\n(Your earlier reminder \`${replaced[0].id}\` is unchanged.)`,
      );
    }
    throw err;
  }
  // "!remind in 2 hours" in reply to any message: remind of that message.
  const replied = ctx.inReplyTo ? await ctx.repliedMessage() : null;
  const quote = ctx.inReplyTo ? { eventId: ctx.inReplyTo, sender: replied?.sender ?? null } : undefined;
  let message = parsed.message;
  if (message === "" && quote) message = replied?.body.trim() || "the message you replied to";
  if (message === "") {
    throw new UserInputError(
      "What should I remind you of? Put the text after the time (`in 10 minutes stretch`), or reply to a message with just the time.",
    );
  }
  if (message.length > config.max_message_length) {
    if (parsed.message !== "") {
      throw new UserInputError(
        `That reminder is ${message.length} characters long; the limit is ${config.max_message_length}.`,
      );
    }
    message = `${message.slice(0, config.max_message_length - 1)}…`;
  }
  for (const old of replaced) {
    for (const item of [old.itemId, old.snoozeItemId, old.nagItemId])
      if (item) await ctx.schedule.cancel(item);
    await store.cancel(old.id);
  }
  await checkActiveLimit(store, config, ctx.sender);
  const reminder = await store.create({
    owner: ctx.sender,
    roomId: ctx.roomId,
    message,
    mentionRoom: command.mentionRoom,
    recurrence: parsed.recurrence,
    zone,
    nextDueAt: parsed.dueAt,
    sourceEventId: ctx.edit?.originalEventId ?? ctx.event.event_id,
    threadRoot: ctx.threadId,
    quote,
    untilAck: parsed.untilAck,
  });
  await store.setItem(reminder.id, await ctx.schedule.at(parsed.dueAt, { reminderId: reminder.id }));
  const outboxId = await ctx.reply(
    confirmationText({
      ...reminder,
      dueAt: parsed.dueAt,
      zone,
      now: ctx.now,
      message,
      notes: parsed.notes,
      replacedId: replaced[0]?.id,
      quoteLink: quote ? replied?.permalink : undefined,
    }),
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

/** `done` (in reply to a reminder, or with ids): stops the repeats of an `--until-ack` reminder. */
async function acknowledge(ctx: Ctx, store: ReminderStore, ids: string[]): Promise<void> {
  const usage = "Reply `done` to one of my reminders, or say `done <id>`.";
  const targets = ids.length ? ids : [await repliedReminder(ctx, store, usage)];
  const lines: string[] = [];
  for (const id of targets) {
    const r = await store.getForUpdate(id);
    if (!r || r.owner !== ctx.sender) {
      lines.push(`You have no reminder \`${id}\`. ${usage}`);
    } else if (!r.nagItemId) {
      lines.push(`\`${r.id}\` is not waiting for you: nothing to stop.`);
    } else {
      await ctx.schedule.cancel(r.nagItemId);
      await store.setNag(r.id, null, 0);
      lines.push(`✅ Done: \`${r.id}\` stops repeating.`);
    }
  }
  await ctx.reply(lines.join("\n"));
}
