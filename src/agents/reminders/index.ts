import type { AgentDefinition, CommandContext } from "../types";
import { handleCommand } from "./commands";
import { REMINDERS_CONFIG_SPEC } from "./config";
import { onDue, onReaction, onRedaction, onRoomUpgrade } from "./events";
import { REMINDERS_MIGRATIONS } from "./migrations";

/**
 * Reminders (`@_agent_reminders`, `!remind`): one-off, recurring and cron reminders in each
 * user's timezone, kept in the database and fired by the shared scheduler, so they survive
 * restarts and arrive late (with a note) rather than never.
 */
export const REMINDERS_HELP = [
  "I remind you (and others) of things: once, repeatedly, or on a cron schedule, in your timezone.",
  "",
  "**Set one** (in our DM just write it; in a room start with `!remind`):",
  "- `in 10 minutes stretch` · `in 1h30m tea`",
  "- `tomorrow at 9am standup` · `at 17:30 go home` · `friday 14:00 demo`",
  "- `every day at 9:00 standup` · `every weekday at 8:30 mail` · `every monday at 10:00 review`",
  "- `every 2 hours drink water` · `every 2 days at 18:00 water the plants`",
  "- `cron 0 9 * * 1-5 standup` (minute hour day-of-month month day-of-week)",
  "- `room in 1 hour deploy` notifies the whole room (@room), if you may",
  "",
  "**Manage them:**",
  "- `list` your reminders · `list all` everyone's in this room",
  "- `cancel <id>`, or reply `cancel` to my confirmation",
  "- `snooze <id> 15m`, or reply `snooze 15m` to a reminder",
  "- `tz Europe/Berlin` sets your timezone · `tz` shows it",
  "",
  "React 👍 to a confirmation to be reminded too; remove the reaction to stop.",
].join("\n");

export const remindersAgent: AgentDefinition = {
  manifest: {
    id: "reminders",
    displayName: "Reminders",
    command: "remind",
    summary: "Reminds you and your room of things, once or repeatedly, in your timezone.",
    help: REMINDERS_HELP,
    enabledByDefault: true,
    configSpec: REMINDERS_CONFIG_SPEC,
    migrations: REMINDERS_MIGRATIONS,
  },
  create: () => ({
    manifest: remindersAgent.manifest,
    onCommand: (ctx: CommandContext) => handleCommand(ctx, REMINDERS_HELP),
    onReaction,
    onRedaction,
    onRoomUpgrade,
    onDue,
  }),
};
