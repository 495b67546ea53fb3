import { agentLogger, capArguments } from "../kit";
import type {
  AgentDefinition,
  AgentManifest,
  CommandContext,
  DueContext,
  RoomUpgradeContext,
} from "../types";
import {
  addTime,
  cancelTimer,
  listTimers,
  pauseTimer,
  resumeTimer,
  startTimer,
  lengthMs,
  startUntil,
} from "./commands";
import { TIMER_CONFIG_SPEC, timerConfig } from "./config";
import { escapeMarkdown, formatDuration } from "./format";
import { TIMER_MIGRATIONS } from "./migrations";
import { parseTimerCommand } from "./parse";
import { TimerStore } from "./store";

const log = agentLogger("agents/timer");

const HELP = [
  "I run timers that ring here when they end. They survive restarts and can run for weeks.",
  "",
  "- `!timer 10m` · `!timer 5 min tea` · `!timer in 5 minutes` · `!timer for 10 minutes` · `!timer tea 5 min`",
  "- `!timer 1h30m pasta` · `!timer an hour and a half` · `!timer 90 seconds` · `!timer 1:30` (1 h 30 min) · `!timer 2 days`",
  "- `!timer until 15:00 meeting` · `!timer until tomorrow 9:00 gym` (in your timezone; `!timer tz Europe/Berlin` sets it for every agent)",
  "- `!timer list`: your timers here, with the time left",
  "- `!timer cancel <name or id>` · `!timer pause <name or id>` · `!timer resume <name or id>`",
  "- `!timer add <name or id> 5m`: more time",
  "- edit your command to correct it; in a thread I answer and ring in the thread",
  "",
  "In a DM with me, leave out `!timer`.",
].join("\n");

const manifest: AgentManifest = {
  id: "timer",
  displayName: "Timer",
  avatarFile: "timer.png",
  command: "timer",
  summary: "Countdown timers that mention you when they end: `!timer 10m tea`.",
  help: HELP,
  enabledByDefault: true,
  timezoneCommand: true,
  configSpec: TIMER_CONFIG_SPEC,
  migrations: TIMER_MIGRATIONS,
};

export async function onTimerCommand(ctx: CommandContext): Promise<void> {
  const cfg = timerConfig(ctx.config);
  const cmd = parseTimerCommand(capArguments(ctx.args, cfg.max_name_length + 400, "That timer"));
  switch (cmd.kind) {
    case "usage":
      return void (await ctx.reply(cmd.message));
    case "start":
      return startTimer(ctx, cfg, await lengthMs(ctx, cmd.duration), cmd.name);
    case "until":
      return startUntil(ctx, cfg, cmd.text);
    case "list":
      return listTimers(ctx);
    case "cancel":
      return cancelTimer(ctx, cmd.ref);
    case "pause":
      return pauseTimer(ctx, cmd.ref);
    case "resume":
      return resumeTimer(ctx, cmd.ref);
    case "add":
      return addTime(ctx, cfg, cmd.ref, await lengthMs(ctx, cmd.duration));
  }
}

/** A timer ends: mention its owner in the room (m.text, so clients notify), then forget it. */
export async function onTimerDue(ctx: DueContext): Promise<void> {
  const cfg = timerConfig(ctx.config);
  const id = typeof ctx.payload.timer === "string" ? ctx.payload.timer : undefined;
  const store = new TimerStore(ctx.db);
  const timer = id ? await store.get(id) : undefined;
  if (!timer || timer.status !== "running" || timer.itemId !== ctx.itemId) {
    // Cancelled, paused or rescheduled under another item: nothing to ring.
    log.debug({ itemId: ctx.itemId, id }, "Stale timer item ignored");
    return;
  }
  await store.remove(timer.id);
  const what = timer.name
    ? `your timer **${escapeMarkdown(timer.name)}** (${formatDuration(timer.durationMs, 3)}) is done`
    : `your ${formatDuration(timer.durationMs, 3)} timer is done`;
  const late =
    ctx.lateMs >= cfg.late_note_after_seconds * 1000
      ? `\n\n(${formatDuration(ctx.lateMs)} late: I was offline when it ended.)`
      : "";
  await ctx.send(timer.roomId, {
    markdown: `⏰ ${timer.owner}: ${what}.${late}`,
    msgtype: "m.text",
    mentions: [timer.owner],
    threadId: timer.threadRoot ?? undefined,
  });
  log.info({ id: timer.id, roomId: timer.roomId, lateMs: ctx.lateMs }, "Timer rang");
}

export async function onTimerRoomUpgrade(ctx: RoomUpgradeContext): Promise<void> {
  const moved = await new TimerStore(ctx.db).moveRoom(ctx.oldRoomId, ctx.newRoomId);
  if (moved)
    log.info({ oldRoomId: ctx.oldRoomId, newRoomId: ctx.newRoomId, moved }, "Timers followed the upgrade");
}

export const timerAgent: AgentDefinition = {
  manifest,
  create: () => ({
    manifest,
    onCommand: onTimerCommand,
    onDue: onTimerDue,
    onRoomUpgrade: onTimerRoomUpgrade,
  }),
};
