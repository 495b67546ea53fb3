import { parseDuration, splitDuration } from "./duration";

/** What a `!timer …` message asks for. */
export type TimerCommand =
  | { kind: "start"; ms: number; name: string | null }
  | { kind: "until"; text: string }
  | { kind: "list" }
  | { kind: "cancel"; ref: string }
  | { kind: "pause"; ref: string }
  | { kind: "resume"; ref: string }
  | { kind: "add"; ref: string; ms: number }
  | { kind: "tz"; zone?: string }
  | { kind: "usage"; message: string };

export const EXAMPLES =
  "Try `!timer 10m`, `!timer 1h30m tea`, `!timer 90 seconds` or `!timer until 15:00 meeting`.";

/** `add <name|id> <duration>` (or `add <duration> to <name|id>`). */
function parseAdd(rest: string): TimerCommand {
  const words = rest.trim().split(/\s+/).filter(Boolean);
  for (let k = 1; k < words.length; k++) {
    const ms = parseDuration(words.slice(k).join(" "));
    if (ms !== null) return { kind: "add", ref: words.slice(0, k).join(" "), ms };
  }
  const lead = splitDuration(rest);
  if (lead && lead.rest) return { kind: "add", ref: lead.rest.replace(/^to\s+/i, ""), ms: lead.ms };
  return { kind: "usage", message: "Usage: `!timer add <name or id> <duration>`, e.g. `!timer add tea 5m`" };
}

export function parseTimerCommand(args: string): TimerCommand {
  const text = args.trim().replace(/\s+/g, " ");
  const m = /^(\S+)\s*(.*)$/.exec(text);
  const word = m?.[1].toLowerCase() ?? "";
  const rest = m?.[2] ?? "";
  const needRef = (kind: "cancel" | "pause" | "resume"): TimerCommand =>
    rest ? { kind, ref: rest } : { kind: "usage", message: `Usage: \`!timer ${kind} <name or id>\`` };
  switch (word) {
    case "list":
    case "ls":
      return { kind: "list" };
    case "cancel":
    case "stop":
    case "delete":
    case "rm":
      return needRef("cancel");
    case "pause":
      return needRef("pause");
    case "resume":
    case "continue":
      return needRef("resume");
    case "add":
    case "extend":
      return parseAdd(rest);
    case "until":
      return rest
        ? { kind: "until", text: rest }
        : {
            kind: "usage",
            message: "Usage: `!timer until <time> [name]`, e.g. `!timer until 15:00 meeting`",
          };
    case "tz":
    case "timezone":
      return { kind: "tz", zone: rest || undefined };
  }
  const split = splitDuration(text);
  if (split) return { kind: "start", ms: split.ms, name: split.rest || null };
  if (/^\d+(\.\d+)?$/.test(word)) {
    return {
      kind: "usage",
      message: `${word} what? Add a unit: \`${word}s\`, \`${word}m\` or \`${word} minutes\`.`,
    };
  }
  return { kind: "usage", message: `I could not read a duration in “${text.slice(0, 80)}”. ${EXAMPLES}` };
}
