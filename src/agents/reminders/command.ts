import { readWholeDuration } from "../kit";
import { normalizeId } from "./ids";

/** What a message to the agent asks for. */
export type Command =
  | { kind: "help" }
  | { kind: "list"; scope: "mine" | "room" }
  | { kind: "cancel"; ids: string[] }
  | { kind: "snooze"; id?: string; duration?: string }
  | { kind: "done"; ids: string[] }
  | { kind: "set"; spec: string; mentionRoom: boolean };

/**
 * The command grammar (design.md, Reminders). Anything that is not a sub-command is a new
 * reminder, so "list groceries in 10 minutes" still sets one: `list` takes only all/room/mine.
 */
export function parseCommand(args: string): Command {
  const text = args.trim();
  // Sub-commands take a few words; only the first 64 are split (the rest is a reminder's text).
  const [first = "", ...restWords] = text.split(/\s+/, 64);
  const word = first.toLowerCase();
  const rest = restWords.join(" ");
  if (text === "" || word === "help" || word === "?") return { kind: "help" };

  if (word === "list" || word === "ls") {
    const scope = rest.toLowerCase();
    if (scope === "" || scope === "mine" || scope === "my") return { kind: "list", scope: "mine" };
    if (scope === "all" || scope === "room") return { kind: "list", scope: "room" };
  }

  if (["cancel", "delete", "remove", "rm", "stop"].includes(word)) {
    const ids = restWords.map(normalizeId);
    if (ids.every((id): id is string => id !== undefined)) return { kind: "cancel", ids };
  }

  if (word === "snooze") {
    if (restWords.length === 0) return { kind: "snooze" };
    // "snooze k3x9p 15m", "snooze k3x9p" (default length), "snooze 15m" (in reply to a reminder).
    const id = normalizeId(restWords[0]);
    if (id && (restWords.length > 1 || !isDuration(restWords[0]))) {
      return { kind: "snooze", id, duration: restWords.slice(1).join(" ") || undefined };
    }
    return { kind: "snooze", duration: rest };
  }

  if (word === "done" || word === "ack" || word === "✅") {
    const ids = restWords.map(normalizeId);
    if (ids.every((id): id is string => id !== undefined)) return { kind: "done", ids };
  }

  if (word === "room" || word === "@room") {
    return { kind: "set", spec: text.slice(first.length).trim(), mentionRoom: true };
  }
  return { kind: "set", spec: text, mentionRoom: false };
}

function isDuration(text: string): boolean {
  try {
    return readWholeDuration(text) !== undefined;
  } catch {
    return true; // "snooze 0m": a duration, refused later with its own message
  }
}
