import { renderedContent } from "../kit";
import { codeBlock } from "./format";
import type { Alias, Entry } from "./store";

/** One entry in an export; `aliases` are display forms. */
export interface TransferEntry {
  key: string;
  answer: string;
  aliases?: string[];
}

export const EXPORT_FORMAT = "matrix-agent-bridge/faq";

/**
 * Most bytes of message content per export part. Events are limited to 64 KiB and carry the
 * JSON twice (body and HTML, where quotes and < > & grow on escaping), so parts are measured
 * as the content actually sent, leaving room for the envelope and the reply relation.
 */
export const MAX_EXPORT_BYTES = 48_000;

/** Size of the message content a reply with this Markdown becomes. */
export function contentBytes(markdown: string): number {
  return Buffer.byteLength(JSON.stringify(renderedContent(markdown, { eventId: "$x" })));
}

/**
 * The entries as JSON code blocks, split so each message stays well below the event size
 * limit; every part is a complete document that `!faq import` accepts on its own.
 */
export function exportDocuments(entries: Entry[], aliases: Alias[], maxBytes = MAX_EXPORT_BYTES): string[] {
  const items: TransferEntry[] = entries.map((e) => {
    const own = aliases.filter((a) => a.target === e.key).map((a) => a.displayAlias);
    return own.length
      ? { key: e.displayKey, answer: e.answer, aliases: own }
      : { key: e.displayKey, answer: e.answer };
  });
  const doc = (part: TransferEntry[]) =>
    codeBlock(JSON.stringify({ format: EXPORT_FORMAT, version: 1, entries: part }, null, 2), "json");
  const parts: TransferEntry[][] = [];
  let current: TransferEntry[] = [];
  for (const item of items) {
    if (current.length > 0 && contentBytes(doc([...current, item])) > maxBytes) {
      parts.push(current);
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts.map(doc);
}

/**
 * Reads what `!faq import` was given: the export document (optionally still inside its code
 * fence), a bare list of entries, or a simple `{ "key": "answer" }` object.
 * Returns the entries, or a message saying what is wrong.
 */
export function parseImport(text: string): TransferEntry[] | string {
  let body = text.trim();
  const fenced = /(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n?\1/u.exec(body);
  if (fenced) body = fenced[2];
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    return `That is not valid JSON (${(err as Error).message}). Paste what \`!faq export\` gave.`;
  }
  let list: unknown;
  if (Array.isArray(data)) list = data;
  else if (data && typeof data === "object" && Array.isArray((data as { entries?: unknown }).entries)) {
    list = (data as { entries: unknown[] }).entries;
  } else if (data && typeof data === "object") {
    const values = Object.entries(data as Record<string, unknown>);
    if (values.every(([, v]) => typeof v === "string")) {
      list = values.map(([key, answer]) => ({ key, answer }));
    }
  }
  if (!Array.isArray(list)) {
    return 'Expected `{"entries": [{"key": …, "answer": …}]}`, a list of entries, or `{"key": "answer", …}`.';
  }
  const out: TransferEntry[] = [];
  for (const [i, item] of list.entries()) {
    const e = item as Record<string, unknown> | null;
    if (!e || typeof e.key !== "string" || typeof e.answer !== "string") {
      return `Entry ${i + 1} needs a text "key" and a text "answer".`;
    }
    const aliases = e.aliases;
    if (aliases !== undefined && (!Array.isArray(aliases) || aliases.some((a) => typeof a !== "string"))) {
      return `Entry ${i + 1}: "aliases" must be a list of texts.`;
    }
    out.push({ key: e.key, answer: e.answer, ...(aliases ? { aliases: aliases as string[] } : {}) });
  }
  return out;
}
