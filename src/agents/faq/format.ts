import { inZone } from "../kit";

/**
 * Backslash-escapes the Markdown syntax that acts mid-line, so user text (names, snippets)
 * shows literally. Line-start syntax (#, -, 1.) never applies: we only put such text after a label.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>~|]/g, "\\$&");
}

/** A one-line, escaped preview of a Markdown answer. */
export function snippet(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const chars = [...flat];
  const cut = chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : flat;
  return escapeMarkdown(cut);
}

/** A fenced code block that the content cannot close early (the fence outgrows any backtick run). */
export function codeBlock(content: string, language = ""): string {
  // A loop, not Math.max(...runs): a spread of a million runs overflows the stack.
  let longest = 0;
  for (const run of content.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${content}\n${fence}`;
}

/** "2025-03-01 14:05" in the given IANA zone. */
export function formatWhen(at: Date, zone: string): string {
  const dt = inZone(at, zone);
  return (dt.isValid ? dt : inZone(at, "UTC")).toFormat("yyyy-LL-dd HH:mm");
}
