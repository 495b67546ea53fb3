import { UserInputError, readDurationAndText, DURATION_EXAMPLES, type Duration } from "../kit";

/** What a `!timer …` message asks for. */
export type TimerCommand =
  | { kind: "start"; duration: Duration; name: string | null }
  | { kind: "until"; text: string }
  | { kind: "list" }
  | { kind: "cancel"; ref: string }
  | { kind: "pause"; ref: string }
  | { kind: "resume"; ref: string }
  | { kind: "add"; ref: string; duration: Duration }
  | { kind: "usage"; message: string };

export const EXAMPLES =
  "Try `!timer 10m`, `!timer 5 min tea`, `!timer in 5 minutes`, `!timer for 1h30m pasta` or `!timer until 15:00 meeting`.";

const NAME_EXAMPLE = '`!timer 5 min "tea at noon"`';

/** `add <name|id> <duration>` (or `add <duration> to <name|id>`). */
function parseAdd(rest: string): TimerCommand {
  // The length last first: a timer id (`25m3s`) can look like a length itself.
  const found = readDurationAndText(rest, NAME_EXAMPLE, { preferEnd: true });
  if (!found || !found.text) {
    return {
      kind: "usage",
      message: "Usage: `!timer add <name or id> <duration>`, e.g. `!timer add tea 5m`",
    };
  }
  return { kind: "add", ref: found.text, duration: found.value };
}

export function parseTimerCommand(args: string): TimerCommand {
  const text = args.trim();
  const m = /^(\S+)\s*/.exec(text);
  const word = m?.[1].toLowerCase() ?? "";
  const rest = m ? text.slice(m[0].length).trim() : "";
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
  }
  const found = readDurationAndText(text, NAME_EXAMPLE);
  if (found) return { kind: "start", duration: found.value, name: found.text || null };
  if (/^-?\d+(?:\.\d+)?$/.test(word)) {
    if (Number(word) <= 0)
      throw new UserInputError(`A length of time has to be more than zero. Try ${DURATION_EXAMPLES}.`);
    const n = word.length > 12 ? `${word.slice(0, 10)}…` : word;
    return { kind: "usage", message: `${n} what? Add a unit: \`${n}s\`, \`${n}m\` or \`${n} minutes\`.` };
  }
  return {
    kind: "usage",
    message: `I could not read a length of time in “${text.slice(0, 80)}”. ${EXAMPLES}`,
  };
}
