import { splitKey, takeGlobalFlag } from "./keys";

/** What a `!faq …` message asks for. */
export type FaqCommand =
  | { kind: "get"; key: string; shortcut: boolean }
  | { kind: "set"; key: string; answer: string; global: boolean }
  | { kind: "delete"; key: string; global: boolean }
  | { kind: "alias"; alias: string; target: string; global: boolean }
  | { kind: "list" }
  | { kind: "search"; text: string }
  | { kind: "history"; key: string; global: boolean }
  | { kind: "revert"; key: string; n: number; global: boolean }
  | { kind: "shortcut"; enabled?: boolean }
  | { kind: "export"; global: boolean }
  | { kind: "import"; json: string; global: boolean }
  | { kind: "usage"; message: string };

const USAGE = {
  set: "Usage: `!faq set <key> <answer…>` (the answer may use Markdown; quote keys with spaces)",
  delete: "Usage: `!faq delete <key>`",
  alias: "Usage: `!faq alias <alias> <key>`",
  search: "Usage: `!faq search <words>`",
  history: "Usage: `!faq history <key>`",
  revert: "Usage: `!faq revert <key> <n>` (n from `!faq history <key>`)",
  shortcut: "Usage: `!faq shortcut on` or `!faq shortcut off`",
  import: "Usage: `!faq import <json>` (the JSON that `!faq export` gives)",
} as const;

/** A whole-argument key: surrounding quotes removed. */
function wholeKey(text: string): string {
  const t = text.trim();
  const quoted = /^["“”'‘’](.+)["“”'‘’]$/su.exec(t);
  return quoted ? quoted[1] : t;
}

/**
 * "<key> [to] [#|v]<n>": the version is the last word. Read from the end by hand: a regex with
 * a lazy key and `\s+` backtracked quadratically on long runs of spaces.
 */
function splitVersion(text: string): { key: string; n: number } | undefined {
  const trimmed = text.trimEnd();
  let cut = trimmed.length;
  while (cut > 0 && !/\s/.test(trimmed[cut - 1])) cut--;
  const version = /^[#v]?(\d{1,9})$/i.exec(trimmed.slice(cut));
  if (!version) return undefined;
  let key = trimmed.slice(0, cut).trimEnd();
  if (/\sto$/i.test(key)) key = key.slice(0, -2).trimEnd();
  return key ? { key, n: Number(version[1]) } : undefined;
}

/**
 * Reads the arguments after `!faq` (or a whole DM message, or a `?key` shortcut message).
 * Returns undefined for messages to ignore silently: a lone "?" or a "?" line that is not a
 * key (people write "??" or "? what" in chat).
 */
export function parseFaqCommand(args: string): FaqCommand | undefined {
  const text = args.trim();
  if (text.startsWith("?")) {
    const m = /^\?([^\s?][^\n]*)$/u.exec(text);
    return m ? { kind: "get", key: m[1].trim(), shortcut: true } : undefined;
  }
  const head = /^(\S+)\s*([\s\S]*)$/u.exec(text);
  if (!head) return undefined;
  const word = head[1].toLowerCase();
  const rest = head[2];
  switch (word) {
    case "set":
    case "add": {
      const { global, rest: r } = takeGlobalFlag(rest);
      const parts = splitKey(r);
      if (!parts || parts.rest === "") return { kind: "usage", message: USAGE.set };
      return { kind: "set", key: parts.key, answer: parts.rest, global };
    }
    case "get":
      return rest.trim() ? { kind: "get", key: wholeKey(rest), shortcut: false } : undefined;
    case "delete":
    case "del":
    case "remove": {
      const { global, rest: r } = takeGlobalFlag(rest);
      return r ? { kind: "delete", key: wholeKey(r), global } : { kind: "usage", message: USAGE.delete };
    }
    case "alias": {
      const { global, rest: r } = takeGlobalFlag(rest);
      const parts = splitKey(r);
      if (!parts || parts.rest === "") return { kind: "usage", message: USAGE.alias };
      return { kind: "alias", alias: parts.key, target: wholeKey(parts.rest), global };
    }
    case "list":
    case "ls":
      return { kind: "list" };
    case "search":
    case "find":
      return rest.trim() ? { kind: "search", text: rest.trim() } : { kind: "usage", message: USAGE.search };
    case "history": {
      const { global, rest: r } = takeGlobalFlag(rest);
      return r ? { kind: "history", key: wholeKey(r), global } : { kind: "usage", message: USAGE.history };
    }
    case "revert": {
      const { global, rest: r } = takeGlobalFlag(rest);
      const parts = splitVersion(r);
      if (!parts) return { kind: "usage", message: USAGE.revert };
      return { kind: "revert", key: wholeKey(parts.key), n: parts.n, global };
    }
    case "shortcut": {
      const v = rest.trim().toLowerCase();
      if (v === "") return { kind: "shortcut" };
      if (["on", "enable", "true", "yes"].includes(v)) return { kind: "shortcut", enabled: true };
      if (["off", "disable", "false", "no"].includes(v)) return { kind: "shortcut", enabled: false };
      return { kind: "usage", message: USAGE.shortcut };
    }
    case "export":
      return { kind: "export", global: takeGlobalFlag(rest).global };
    case "import": {
      const { global, rest: r } = takeGlobalFlag(rest);
      return r ? { kind: "import", json: r, global } : { kind: "usage", message: USAGE.import };
    }
    default:
      return { kind: "get", key: wholeKey(text), shortcut: false };
  }
}
