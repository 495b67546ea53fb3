import {
  UserInputError,
  addDuration,
  agentLogger,
  capArguments,
  readTimeAndText,
  type Duration,
} from "../kit";
import type { CommandContext } from "../types";
import type { TimerConfig } from "./config";
import { ends, escapeMarkdown, formatDuration, label } from "./format";
import { remaining, type Timer, TimerStore } from "./store";

const log = agentLogger("agents/timer/commands");
const DAY = 86_400_000;

/** A length of time from now in the user's zone (days keep the wall-clock time, as reminders do). */
export async function lengthMs(ctx: CommandContext, d: Duration): Promise<number> {
  const zone = await ctx.users.timezone(ctx.sender);
  return addDuration(ctx.now, d, zone).getTime() - ctx.now.getTime();
}

function checkLength(ms: number, cfg: TimerConfig): void {
  if (ms > cfg.max_duration_days * DAY) {
    throw new UserInputError(
      `That is longer than the limit of ${cfg.max_duration_days} days (${formatDuration(ms)} asked).`,
    );
  }
}

export async function startTimer(
  ctx: CommandContext,
  cfg: TimerConfig,
  ms: number,
  rawName: string | null,
): Promise<void> {
  checkLength(ms, cfg);
  const name = rawName?.trim() || null;
  if (name && [...name].length > cfg.max_name_length) {
    throw new UserInputError(`That name is too long (the limit is ${cfg.max_name_length} characters).`);
  }
  const store = new TimerStore(ctx.db);
  // An edited command replaces the timer its original started.
  const replaced = ctx.edit ? await store.fromSource(ctx.edit.originalEventId, ctx.sender) : [];
  for (const old of replaced) {
    if (old.itemId) await ctx.schedule.cancel(old.itemId);
    await store.remove(old.id);
  }
  const count = await store.countByOwner(ctx.sender);
  if (count >= cfg.max_timers_per_user) {
    throw new UserInputError(
      `You have ${count} timers already (the limit is ${cfg.max_timers_per_user}). Cancel one with \`!timer cancel <name or id>\`.`,
    );
  }
  const dueAt = new Date(ctx.now.getTime() + ms);
  const id = await store.create({
    owner: ctx.sender,
    roomId: ctx.roomId,
    name,
    durationMs: ms,
    dueAt,
    sourceEventId: ctx.edit?.originalEventId ?? ctx.event.event_id,
    createdAt: ctx.now,
    threadRoot: ctx.threadId,
  });
  await store.setItem(id, await ctx.schedule.at(dueAt, { timer: id }));
  const zone = await ctx.users.timezone(ctx.sender);
  log.info({ roomId: ctx.roomId, id, ms }, "Timer started");
  const what = name ? `Timer **${escapeMarkdown(name)}**` : "Timer";
  await ctx.reply(
    `⏱️ ${what} set for ${formatDuration(ms, 3)}: it ${ends(dueAt, ctx.now, zone)}. ` +
      `Id \`${id}\`; \`!timer cancel ${id}\` stops it.` +
      (replaced.length ? ` (It replaces \`${replaced[0].id}\`, from the command you edited.)` : ""),
  );
}

export async function startUntil(ctx: CommandContext, cfg: TimerConfig, text: string): Promise<void> {
  capArguments(text, cfg.max_name_length + 200, "That timer");
  const zone = await ctx.users.timezone(ctx.sender);
  const found = readTimeAndText(
    text,
    { now: ctx.now, zone },
    {
      recurring: false,
      example: '`!timer until 15:00 "call at noon"`',
      examples: "`!timer until 15:00 meeting`, `!timer until 3:30pm` or `!timer until tomorrow 9:00 gym`",
    },
  );
  if (found.value.kind !== "once")
    throw new UserInputError("A timer ends once. Try `!timer until 15:00 meeting`.");
  await startTimer(ctx, cfg, found.value.at.getTime() - ctx.now.getTime(), found.text || null);
}

/** Finds one of the sender's timers by id, else by name (this room first). */
export async function findTimer(ctx: CommandContext, ref: string): Promise<Timer> {
  const mine = await new TimerStore(ctx.db).byOwner(ctx.sender);
  const wanted = ref.trim().toLowerCase().replace(/^`|`$/g, "");
  const byId = mine.find((t) => t.id === wanted);
  const pick = (candidates: Timer[]) => candidates.filter((t) => t.name?.toLowerCase() === wanted);
  const here = pick(mine.filter((t) => t.roomId === ctx.roomId));
  const matches = byId ? [byId] : here.length ? here : pick(mine);
  if (matches.length === 0) {
    throw new UserInputError(
      `You have no timer called “${escapeMarkdown(ref)}”. \`!timer list\` shows yours.`,
    );
  }
  if (matches.length > 1) {
    throw new UserInputError(
      `Several of your timers are called “${escapeMarkdown(ref)}”: ${matches.map((t) => `\`${t.id}\``).join(", ")}. Use the id.`,
    );
  }
  // Re-read with a row lock so a firing cannot cross this command.
  const locked = await new TimerStore(ctx.db).get(matches[0].id);
  if (!locked) throw new UserInputError("That timer has just ended.");
  return locked;
}

export async function listTimers(ctx: CommandContext): Promise<void> {
  const mine = await new TimerStore(ctx.db).byOwner(ctx.sender);
  const here = mine.filter((t) => t.roomId === ctx.roomId);
  const elsewhere = mine.length - here.length;
  const other = elsewhere ? `\n\nYou have ${elsewhere} more in other rooms.` : "";
  if (here.length === 0) {
    await ctx.reply(`You have no timers in this room.${other}`);
    return;
  }
  const zone = await ctx.users.timezone(ctx.sender);
  const lines = here
    .map((t) => ({ t, left: remaining(t, ctx.now) }))
    .sort((a, b) => a.left - b.left)
    .map(({ t, left }) =>
      t.status === "paused"
        ? `- ${label(t)}: paused, ${formatDuration(left, 3)} left`
        : `- ${label(t)}: ${formatDuration(left, 3)} left, ${ends(t.dueAt!, ctx.now, zone)}`,
    );
  await ctx.reply([`Your timers here (${here.length}):`, ...lines].join("\n") + other);
}

export async function cancelTimer(ctx: CommandContext, ref: string): Promise<void> {
  const timer = await findTimer(ctx, ref);
  if (timer.itemId) await ctx.schedule.cancel(timer.itemId);
  await new TimerStore(ctx.db).remove(timer.id);
  log.info({ roomId: ctx.roomId, id: timer.id }, "Timer cancelled");
  await ctx.reply(`Cancelled ${label(timer)} (${formatDuration(remaining(timer, ctx.now), 3)} were left).`);
}

export async function pauseTimer(ctx: CommandContext, ref: string): Promise<void> {
  const timer = await findTimer(ctx, ref);
  if (timer.status === "paused") throw new UserInputError(`${label(timer)} is already paused.`);
  if (!timer.itemId || !(await ctx.schedule.cancel(timer.itemId))) {
    throw new UserInputError(`${label(timer)} has just ended.`);
  }
  const left = remaining(timer, ctx.now);
  await new TimerStore(ctx.db).pause(timer.id, left);
  await ctx.reply(
    `Paused ${label(timer)} with ${formatDuration(left, 3)} left. \`!timer resume ${timer.id}\` continues it.`,
  );
}

export async function resumeTimer(ctx: CommandContext, ref: string): Promise<void> {
  const timer = await findTimer(ctx, ref);
  if (timer.status !== "paused") throw new UserInputError(`${label(timer)} is not paused.`);
  const left = remaining(timer, ctx.now);
  const dueAt = new Date(ctx.now.getTime() + left);
  const itemId = await ctx.schedule.at(dueAt, { timer: timer.id });
  await new TimerStore(ctx.db).resume(timer.id, dueAt, itemId);
  const zone = await ctx.users.timezone(ctx.sender);
  await ctx.reply(
    `Resumed ${label(timer)}: ${formatDuration(left, 3)} left, it ${ends(dueAt, ctx.now, zone)}.`,
  );
}

export async function addTime(ctx: CommandContext, cfg: TimerConfig, ref: string, ms: number): Promise<void> {
  const timer = await findTimer(ctx, ref);
  const left = remaining(timer, ctx.now) + ms;
  checkLength(left, cfg);
  const store = new TimerStore(ctx.db);
  const zone = await ctx.users.timezone(ctx.sender);
  if (timer.status === "running") {
    const dueAt = new Date(timer.dueAt!.getTime() + ms);
    if (!timer.itemId || !(await ctx.schedule.reschedule(timer.itemId, dueAt))) {
      throw new UserInputError(`${label(timer)} has just ended.`);
    }
    await store.extend(timer, ms);
    await ctx.reply(
      `Added ${formatDuration(ms, 3)} to ${label(timer)}: ${formatDuration(left, 3)} left, it ${ends(dueAt, ctx.now, zone)}.`,
    );
    return;
  }
  await store.extend(timer, ms);
  await ctx.reply(
    `Added ${formatDuration(ms, 3)} to ${label(timer)} (paused, ${formatDuration(left, 3)} left).`,
  );
}
