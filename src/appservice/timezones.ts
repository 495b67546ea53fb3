import type { Knex } from "knex";
import { UserInputError } from "../errors";
import type { UserSettings } from "../agents/types";
import { canonicalZone, formatInstant, inZone } from "../agents/kit/time/zone";
import { UserPrefs } from "../store/userPrefs";

/**
 * One timezone setting per person, one `tz` behaviour for every agent: the core validates the
 * IANA name, stores its canonical spelling and tells every agent (onTimezoneChanged), so
 * recurring items move with it whichever agent the person asked.
 */
export type TimezoneListener = (
  db: Knex.Transaction,
  userId: string,
  previous: string,
  zone: string,
) => Promise<string[]>;

const LONGEST_ZONE_NAME = 64;

export function unknownZone(name: string): UserInputError {
  const shown = name.length > LONGEST_ZONE_NAME ? `${name.slice(0, LONGEST_ZONE_NAME)}…` : name;
  return new UserInputError(
    `“${shown}” is not a timezone I know. Use an IANA name such as \`Europe/Berlin\`, \`America/New_York\` or \`UTC\` ` +
      "(see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).",
  );
}

export function userSettings(
  db: Knex.Transaction,
  defaultZone: string,
  listener: TimezoneListener,
): UserSettings {
  const prefs = new UserPrefs(db);
  const timezone = async (userId: string) => {
    const stored = await prefs.timezone(userId);
    // A zone stored by an older version may have gone from the database: fall back, never fail.
    return (stored && canonicalZone(stored)) || defaultZone;
  };
  return {
    timezone,
    async setTimezone(userId, name) {
      const zone = name.length <= LONGEST_ZONE_NAME ? canonicalZone(name) : undefined;
      if (!zone) throw unknownZone(name);
      const previous = await timezone(userId);
      await prefs.setTimezone(userId, zone);
      const notes = previous === zone ? [] : await listener(db, userId, previous, zone);
      return { zone, previous, notes };
    },
  };
}

/** `tz` shows the zone, `tz <Area/City>` sets it; the same words whichever agent is asked. */
export async function answerTimezoneCommand(
  users: UserSettings,
  userId: string,
  args: string,
  now: Date,
  command: string,
): Promise<string> {
  const name = args.replace(/^\S+\s*/, "").trim();
  if (!name) {
    const zone = await users.timezone(userId);
    return (
      `Your timezone is **${zone}** (it is ${inZone(now, zone).toFormat("HH:mm")} there now). ` +
      `Change it with \`${command}tz <Area/City>\`, e.g. \`${command}tz Europe/Berlin\` or \`${command}tz America/New_York\`.`
    );
  }
  const { zone, notes } = await users.setTimezone(userId, name);
  const extra = notes.length ? ` ${notes.join(" ")}` : "";
  return `Your timezone is now **${zone}** (it is ${inZone(now, zone).toFormat("HH:mm")} there, ${formatInstant(now, zone)}); every agent uses it.${extra}`;
}

export function isTimezoneCommand(args: string): boolean {
  return /^(?:tz|timezone)(?:\s|$)/i.test(args);
}
