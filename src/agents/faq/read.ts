import { agentLogger } from "../kit";
import type { CommandContext } from "../types";
import type { FaqConfig } from "./config";
import { escapeMarkdown, formatWhen, snippet } from "./format";
import { nearMisses, rankEntries } from "./fuzzy";
import { normalizeKey } from "./keys";
import { editRefusal, resolve, visibleEntries, visibleKeys } from "./lookup";
import { GLOBAL, type FaqStore, type HistoryRow } from "./store";
import { exportDocuments } from "./transfer";

const log = agentLogger("agents/faq/read");

/** Most characters of key/alias names in one `list` reply before it says "and N more". */
const LIST_BUDGET = 6000;
const HISTORY_SHOWN = 20;

export const bold = (text: string) => `**${escapeMarkdown(text)}**`;

/** Whether `?key` is answered in this room: the config switch, then the room's own setting. */
export async function shortcutOn(ctx: CommandContext, cfg: FaqConfig, store: FaqStore): Promise<boolean> {
  return cfg.shortcut_enabled && (await store.shortcut(ctx.roomId)) !== false;
}

/** Display forms of near-miss keys, best first (resolving aliases to what they show). */
export async function suggestionsFor(store: FaqStore, room: string, key: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of nearMisses(key, await visibleKeys(store, room))) {
    const found = await resolve(store, room, s.key);
    if (found) out.push(found.alias ?? found.entry.displayKey);
  }
  return out;
}

/**
 * `!faq <key>`, `!faq get <key>` and `?key`. A near miss with one best candidate answers
 * with it under a "did you mean"; several candidates are listed. A `?key` in a group room
 * stays silent when the shortcut is off or nothing is close, so chat using "?" is not noisy.
 */
export async function handleGet(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  rawKey: string,
  shortcut: boolean,
): Promise<void> {
  const quiet = shortcut && !ctx.isDirect;
  if (quiet && !(await shortcutOn(ctx, cfg, store))) return;
  const key = normalizeKey(rawKey);
  if (key === "" || [...key].length > cfg.max_key_length) {
    if (!quiet)
      await ctx.reply(`I don't know ${bold(rawKey.slice(0, 60))}. \`!faq list\` shows what I know.`);
    return;
  }
  const found = await resolve(store, ctx.roomId, key);
  if (found) {
    await ctx.reply(found.entry.answer);
    return;
  }
  // "?anyone here know X" in a group room is chat: only single words get a did-you-mean.
  if (quiet && /\s/.test(rawKey.trim())) return;
  const misses = nearMisses(key, await visibleKeys(store, ctx.roomId));
  const best = misses.filter((m) => m.distance === misses[0]?.distance);
  if (best.length === 1) {
    const hit = await resolve(store, ctx.roomId, best[0].key);
    if (hit) {
      await ctx.reply(`Did you mean ${bold(hit.alias ?? hit.entry.displayKey)}?\n\n${hit.entry.answer}`);
      return;
    }
  }
  const names = await suggestionsFor(store, ctx.roomId, key);
  if (names.length > 0) {
    await ctx.reply(`Did you mean ${names.map(bold).join(", ")}?`);
    return;
  }
  if (quiet) return;
  await ctx.reply(
    `I don't know ${bold(rawKey)} yet. \`!faq list\` shows what I know, \`!faq search <words>\` searches.`,
  );
}

export async function handleList(ctx: CommandContext, store: FaqStore): Promise<void> {
  const sections: string[] = [];
  const scopes = ctx.roomId === GLOBAL ? [GLOBAL] : [ctx.roomId, GLOBAL];
  const own = new Set((await store.entries(ctx.roomId)).map((e) => e.key));
  let budget = LIST_BUDGET;
  for (const scope of scopes) {
    const entries = (await store.entries(scope)).filter((e) => scope === ctx.roomId || !own.has(e.key));
    if (entries.length === 0) continue;
    const aliases = await store.aliases(scope);
    const items: string[] = [];
    for (const e of entries) {
      const also = aliases.filter((a) => a.target === e.key).map((a) => escapeMarkdown(a.displayAlias));
      const item = `${bold(e.displayKey)}${also.length ? ` (also ${also.join(", ")})` : ""}`;
      if (item.length > budget) {
        items.push(`… and ${entries.length - items.length} more (try \`!faq search\`)`);
        break;
      }
      budget -= item.length;
      items.push(item);
    }
    const title = scope === GLOBAL ? "Global entries" : "Entries in this room";
    sections.push(`${title} (${entries.length}): ${items.join(", ")}`);
  }
  if (sections.length === 0) {
    await ctx.reply("No FAQ entries yet. Editors add one with `!faq set <key> <answer>`.");
    return;
  }
  await ctx.reply(sections.join("\n\n"));
}

export async function handleSearch(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  text: string,
): Promise<void> {
  const aliases = [
    ...(await store.aliases(ctx.roomId)),
    ...(ctx.roomId === GLOBAL ? [] : await store.aliases(GLOBAL)),
  ];
  const searchable = (await visibleEntries(store, ctx.roomId)).map((entry) => ({
    entry,
    key: entry.key,
    answer: entry.answer,
    displayKey: [
      entry.displayKey,
      ...aliases.filter((a) => a.target === entry.key).map((a) => a.displayAlias),
    ].join(" "),
  }));
  const hits = rankEntries(searchable, text, cfg.search_results);
  if (hits.length === 0) {
    await ctx.reply(`Nothing matches “${escapeMarkdown(text)}”. \`!faq list\` shows every key.`);
    return;
  }
  const lines = hits.map((h, i) => `${i + 1}. ${bold(h.entry.displayKey)}: ${snippet(h.entry.answer)}`);
  await ctx.reply([`Results for “${escapeMarkdown(text)}”:`, ...lines].join("\n"));
}

function describeChange(row: HistoryRow): string {
  const text = row.answer === null ? "" : `: “${snippet(row.answer, 60)}”`;
  switch (row.action) {
    case "set":
      return `set it${text}`;
    case "import":
      return `imported it${text}`;
    case "revert":
      return `reverted it to version ${row.note ?? "?"}${text}`;
    case "delete":
      return "deleted it";
    case "alias":
      return `made it an alias of ${bold(row.note ?? "?")}`;
    case "unalias":
      return `removed the alias (of ${bold(row.note ?? "?")})`;
  }
}

/** The scope whose history `history`/`revert` mean: the flag, else the room if it has any, else global. */
export async function historyScope(
  ctx: CommandContext,
  store: FaqStore,
  key: string,
  global: boolean,
): Promise<string> {
  if (global) return GLOBAL;
  if ((await store.history(ctx.roomId, key)).length > 0) return ctx.roomId;
  return (await store.history(GLOBAL, key)).length > 0 ? GLOBAL : ctx.roomId;
}

export async function handleHistory(
  ctx: CommandContext,
  store: FaqStore,
  rawKey: string,
  global: boolean,
): Promise<void> {
  const key = normalizeKey(rawKey);
  const scope = await historyScope(ctx, store, key, global);
  const rows = await store.history(scope, key);
  if (rows.length === 0) {
    const names = await suggestionsFor(store, ctx.roomId, key);
    const hint = names.length ? ` Did you mean ${names.map(bold).join(", ")}?` : "";
    await ctx.reply(`There is no history for ${bold(rawKey)}.${hint}`);
    return;
  }
  const zone = await ctx.users.timezone(ctx.sender);
  const current = (await store.entry(scope, key))?.version;
  const shown = rows.slice(-HISTORY_SHOWN);
  const lines = shown.map(
    (r) =>
      `${r.n}. ${formatWhen(r.at, zone)}: ${escapeMarkdown(r.actor)} ${describeChange(r)}` +
      (r.n === current ? " *(current)*" : ""),
  );
  const where = scope === GLOBAL ? "global entry " : "";
  const more = rows.length > shown.length ? ` (the last ${shown.length} of ${rows.length})` : "";
  await ctx.reply(
    [
      `History of ${where}${bold(rows[rows.length - 1].displayKey)}${more}, times in ${zone}:`,
      ...lines,
      "",
      `\`!faq revert ${rows[rows.length - 1].displayKey} <n>\` brings back version n.`,
    ].join("\n"),
  );
}

export async function handleExport(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  global: boolean,
): Promise<void> {
  const refusal = await editRefusal(ctx, cfg, global);
  if (refusal) {
    await ctx.reply(refusal);
    return;
  }
  const scope = global ? GLOBAL : ctx.roomId;
  const entries = await store.entries(scope);
  if (entries.length === 0) {
    await ctx.reply(
      global ? "There are no global entries to export." : "This room has no entries to export.",
    );
    return;
  }
  const docs = exportDocuments(entries, await store.aliases(scope));
  log.info({ roomId: ctx.roomId, global, entries: entries.length, parts: docs.length }, "FAQ exported");
  for (const [i, doc] of docs.entries()) {
    const head =
      docs.length > 1
        ? `Part ${i + 1} of ${docs.length} (each part can be imported on its own):`
        : `${entries.length} entries; \`!faq import\` takes this back:`;
    await ctx.reply(`${head}\n\n${doc}`);
  }
}
