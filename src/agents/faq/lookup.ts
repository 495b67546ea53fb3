import type { CommandContext } from "../types";
import type { FaqConfig } from "./config";
import { GLOBAL, type Entry, type FaqStore } from "./store";

export interface Found {
  entry: Entry;
  /** The alias the user typed, when the key was one. */
  alias?: string;
}

/**
 * Resolves a normalised key as a room sees it: the room's entries, then the room's aliases
 * (which may point at a global entry), then global entries and global aliases. Room entries
 * win over global ones.
 */
export async function resolve(store: FaqStore, room: string, key: string): Promise<Found | undefined> {
  const own = await store.entry(room, key);
  if (own) return { entry: own };
  const alias = await store.alias(room, key);
  if (alias) {
    const target = (await store.entry(room, alias.target)) ?? (await store.entry(GLOBAL, alias.target));
    if (target) return { entry: target, alias: alias.displayAlias };
  }
  if (room !== GLOBAL) {
    const global = await resolve(store, GLOBAL, key);
    if (global) return global;
  }
  return undefined;
}

/** Every key and alias a room can look up (normalised). */
export async function visibleKeys(store: FaqStore, room: string): Promise<string[]> {
  const scopes = room === GLOBAL ? [GLOBAL] : [room, GLOBAL];
  const keys: string[] = [];
  for (const scope of scopes) {
    keys.push(...(await store.entries(scope)).map((e) => e.key));
    keys.push(...(await store.aliases(scope)).map((a) => a.alias));
  }
  return keys;
}

/** The room's entries plus the global ones it does not override. */
export async function visibleEntries(store: FaqStore, room: string): Promise<Entry[]> {
  const own = await store.entries(room);
  if (room === GLOBAL) return own;
  const ownKeys = new Set(own.map((e) => e.key));
  const global = (await store.entries(GLOBAL)).filter((e) => !ownKeys.has(e.key));
  return [...own, ...global];
}

/**
 * Why the sender may not edit (room or global entries), or undefined when they may.
 * Room entries need the configured power level in the room, or a bridge admin; global ones
 * a bridge admin.
 */
export async function editRefusal(
  ctx: CommandContext,
  cfg: FaqConfig,
  global: boolean,
): Promise<string | undefined> {
  if (ctx.rooms.isBridgeAdmin(ctx.sender)) return undefined;
  if (global) return "Only bridge admins can change global FAQ entries.";
  let level: number;
  try {
    level = await ctx.rooms.powerLevel(ctx.roomId, ctx.sender);
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, "Could not read power levels");
    return "I could not check your power level in this room, so I cannot let you edit. Please try again later.";
  }
  if (level >= cfg.edit_power_level) return undefined;
  return (
    `Sorry, editing this room's FAQ needs power level ${cfg.edit_power_level} ` +
    `(yours is ${level}). Ask a moderator, or a bridge admin.`
  );
}
