import type { AgentDefinition, CommandContext } from "../types";
import { handleCommand } from "./commands";
import { REMINDERS_CONFIG_SPEC } from "./config";
import { onDue, onReaction, onRedaction, onRoomUpgrade, onTimezoneChanged } from "./events";
import { REMINDERS_MIGRATIONS } from "./migrations";

/**
 * Reminders (`@_agent_reminders`, `!remind`): one-off, recurring and cron reminders in each
 * user's timezone, kept in the database and fired by the shared scheduler, so they survive
 * restarts and arrive late (with a note) rather than never.
 */
export const REMINDERS_HELP = [
  "I remind you (and others) of things: once, repeatedly, or on a cron schedule, in your timezone.",
  "",
  "**Set one** (in our DM just write it; in a room start with `!remind`). The time goes first or last:",
  "- `remind me in 10 minutes to stretch` · `water the plants in 3 hours` · `in 1h30 tea` · `in an hour and a half tea`",
  "- `remind me tomorrow at 9 to call mom` · `tonight at 8 movie` · `at noon lunch` · `tomorrow morning run`",
  "- `friday 14:00 demo` · `next friday at 3pm review` · `dec 24 at 18:00 presents` · `on the 15th at 9am rent` · `2026-12-24 18:00 party`",
  "- `every day at 7 wake up` · `every weekday at 8:30 mail` · `every mon, wed and fri at 19:00 gym`",
  "- `every 2 hours drink water` · `every other week on friday review` · `every month on the 1st at 9 rent` · `every year on march 3 birthday`",
  "- `cron 0 9 * * 1-5 standup` (minute hour day-of-month month day-of-week)",
  "- `room in 1 hour deploy` notifies the whole room (@room), if you may",
  "- add `--until-ack` and it repeats every 5 minutes until you react ✅ or reply `done`",
  "- **reply** to any message with `!remind in 2 hours` (in our DM: `in 2 hours`) to be reminded of that message",
  "",
  "**How I read times:** `at 5` without am/pm means 17:00 (1 to 6 are afternoon, 7 to 11 morning; say `5am` or `05:00` to be sure); " +
    "a day without a time means 09:00; `friday` is the coming Friday (today if still ahead), `next friday` the first Friday after today. " +
    'If the text itself holds a time word, put it in quotes: `in 10 minutes "ask about tomorrow"`.',
  "",
  "**Manage them:**",
  "- `list` your reminders · `list all` everyone's in this room",
  "- `cancel <id>`, or reply `cancel` to my confirmation · edit your command to correct it",
  "- `snooze <id> 15m`, or reply `snooze 15m` to a reminder · reply `done` to stop repeats",
  "- `tz Europe/Berlin` sets your timezone (for every agent) · `tz` shows it",
  "",
  "React 👍 to a confirmation to be reminded too; remove the reaction to stop.",
].join("\n");

export const remindersAgent: AgentDefinition = {
  manifest: {
    id: "reminders",
    displayName: "Reminders",
    avatarFile: "reminders.png",
    command: "remind",
    summary: "Reminds you and your room of things, once or repeatedly, in your timezone.",
    help: REMINDERS_HELP,
    enabledByDefault: true,
    timezoneCommand: true,
    configSpec: REMINDERS_CONFIG_SPEC,
    migrations: REMINDERS_MIGRATIONS,
  },
  create: () => ({
    manifest: remindersAgent.manifest,
    onCommand: (ctx: CommandContext) => handleCommand(ctx, REMINDERS_HELP),
    onReaction,
    onRedaction,
    onRoomUpgrade,
    onTimezoneChanged,
    onDue,
  }),
};
