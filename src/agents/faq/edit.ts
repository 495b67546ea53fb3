import { agentLogger } from "../kit";
import type { CommandContext } from "../types";
import type { FaqConfig } from "./config";
import { escapeMarkdown } from "./format";
import { displayKey, keyProblem, normalizeKey } from "./keys";
import { editRefusal, resolve } from "./lookup";
import { bold, historyScope, suggestionsFor } from "./read";
import { GLOBAL, type FaqStore } from "./store";
import { answerProblem } from "./safety";
import { parseImport } from "./transfer";

const log = agentLogger("agents/faq/edit");

/** Thrown inside edit handlers to answer the user and change nothing. */
class Refused extends Error {}

async function requireEditor(ctx: CommandContext, cfg: FaqConfig, global: boolean): Promise<string> {
  const refusal = await editRefusal(ctx, cfg, global);
  if (refusal) throw new Refused(refusal);
  return global ? GLOBAL : ctx.roomId;
}

function checkKey(raw: string, cfg: FaqConfig): string {
  const problem = keyProblem(raw, cfg.max_key_length);
  if (problem) throw new Refused(problem);
  return normalizeKey(raw);
}

function checkAnswer(answer: string, cfg: FaqConfig): void {
  const problem = answerProblem(answer, cfg.max_answer_length);
  if (problem) throw new Refused(problem);
}

async function checkRoomForNew(store: FaqStore, scope: string, cfg: FaqConfig, adding: number) {
  const count = await store.count(scope);
  if (count + adding > cfg.max_entries) {
    const where = scope === GLOBAL ? "The global list" : "This room";
    throw new Refused(`${where} has ${count} entries; the limit is ${cfg.max_entries}. Delete some first.`);
  }
}

/** Runs an edit handler, turning a refusal into a reply. */
export async function edit(ctx: CommandContext, fn: () => Promise<string>): Promise<void> {
  try {
    await ctx.reply(await fn());
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    await ctx.reply(err.message);
  }
}

export async function setEntry(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  rawKey: string,
  answer: string,
  global: boolean,
): Promise<string> {
  const scope = await requireEditor(ctx, cfg, global);
  const key = checkKey(rawKey, cfg);
  checkAnswer(answer, cfg);
  const alias = await store.alias(scope, key);
  if (alias) {
    throw new Refused(
      `${bold(alias.displayAlias)} is an alias of ${bold(alias.target)}: change that entry, or delete the alias first.`,
    );
  }
  const existing = await store.entry(scope, key);
  if (!existing) await checkRoomForNew(store, scope, cfg, 1);
  const { n, created } = await store.put(scope, key, displayKey(rawKey), answer, ctx.sender, ctx.now);
  log.info({ roomId: ctx.roomId, scope, key, n, created }, "FAQ entry saved");
  const what = global ? "global entry " : "";
  if (created) {
    const overrides =
      !global && (await store.entry(GLOBAL, key)) ? " It overrides the global entry here." : "";
    return `Saved ${what}${bold(displayKey(rawKey))}.${overrides}`;
  }
  return `Updated ${what}${bold(displayKey(rawKey))} (version ${n}; \`!faq history\` shows earlier ones).`;
}

export async function deleteEntry(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  rawKey: string,
  global: boolean,
): Promise<string> {
  const scope = await requireEditor(ctx, cfg, global);
  const key = normalizeKey(rawKey);
  const removed = await store.remove(scope, key, ctx.sender, ctx.now);
  if (removed.deleted) {
    log.info({ roomId: ctx.roomId, scope, key }, "FAQ entry deleted");
    const also = removed.aliases.length
      ? ` (and its aliases ${removed.aliases.map(escapeMarkdown).join(", ")})`
      : "";
    return `Deleted ${global ? "global entry " : ""}${bold(displayKey(rawKey))}${also}. \`!faq revert\` can bring it back.`;
  }
  const alias = await store.alias(scope, key);
  if (alias && (await store.removeAlias(scope, key, ctx.sender, ctx.now))) {
    return `Removed the alias ${bold(alias.displayAlias)} (of ${bold(alias.target)}).`;
  }
  if (!global && (await store.entry(GLOBAL, key))) {
    throw new Refused(
      `${bold(displayKey(rawKey))} is a global entry; bridge admins delete it with \`!faq delete --global ${displayKey(rawKey)}\`.`,
    );
  }
  const names = await suggestionsFor(store, scope, key);
  const hint = names.length ? ` Did you mean ${names.map(bold).join(", ")}?` : "";
  throw new Refused(
    `There is no entry ${bold(displayKey(rawKey))} ${global ? "globally" : "in this room"}.${hint}`,
  );
}

export async function addAlias(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  rawAlias: string,
  rawTarget: string,
  global: boolean,
): Promise<string> {
  const scope = await requireEditor(ctx, cfg, global);
  const alias = checkKey(rawAlias, cfg);
  const target = await resolve(store, scope, normalizeKey(rawTarget));
  if (!target) {
    const names = await suggestionsFor(store, scope, normalizeKey(rawTarget));
    const hint = names.length ? ` Did you mean ${names.map(bold).join(", ")}?` : "";
    throw new Refused(`There is no entry ${bold(displayKey(rawTarget))} to point the alias at.${hint}`);
  }
  if (target.entry.key === alias) throw new Refused("An alias needs a name different from its entry.");
  if (await store.entry(scope, alias)) {
    throw new Refused(
      `${bold(displayKey(rawAlias))} is already an entry; delete it first to use it as an alias.`,
    );
  }
  if (!(await store.alias(scope, alias)) && (await store.aliases(scope)).length >= cfg.max_entries) {
    throw new Refused(`There are already ${cfg.max_entries} aliases here; delete some first.`);
  }
  await store.putAlias(scope, alias, displayKey(rawAlias), target.entry.key, ctx.sender, ctx.now);
  return `${bold(displayKey(rawAlias))} now answers like ${bold(target.entry.displayKey)}.`;
}

export async function revertEntry(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  rawKey: string,
  n: number,
  global: boolean,
): Promise<string> {
  const key = normalizeKey(rawKey);
  const scope = await historyScope(ctx, store, key, global);
  await requireEditor(ctx, cfg, scope === GLOBAL);
  const rows = await store.history(scope, key);
  if (rows.length === 0) throw new Refused(`There is no history for ${bold(displayKey(rawKey))}.`);
  const row = rows.find((r) => r.n === n);
  if (!row) {
    throw new Refused(`${bold(rows[0].displayKey)} has no version ${n} (it has 1 to ${rows.length}).`);
  }
  if (row.answer === null) {
    throw new Refused(`Version ${n} of ${bold(row.displayKey)} has no text (it was a ${row.action}).`);
  }
  if (await store.alias(scope, key)) {
    throw new Refused(`${bold(row.displayKey)} is an alias now; delete the alias first.`);
  }
  const current = await store.entry(scope, key);
  if (current?.answer === row.answer) {
    return `${bold(row.displayKey)} already has the text of version ${n}.`;
  }
  if (!current) await checkRoomForNew(store, scope, cfg, 1);
  const saved = await store.put(
    scope,
    key,
    row.displayKey,
    row.answer,
    ctx.sender,
    ctx.now,
    "revert",
    String(n),
  );
  log.info({ roomId: ctx.roomId, scope, key, to: n }, "FAQ entry reverted");
  return `Reverted ${bold(row.displayKey)} to version ${n} (saved as version ${saved.n}).`;
}

export async function setShortcut(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  enabled: boolean | undefined,
): Promise<string> {
  const roomSetting = await store.shortcut(ctx.roomId);
  if (enabled === undefined) {
    if (!cfg.shortcut_enabled) return "The `?key` shortcut is turned off for the whole bridge.";
    return `The \`?key\` shortcut is ${roomSetting === false ? "off" : "on"} in this room.`;
  }
  await requireEditor(ctx, cfg, false);
  if (enabled && !cfg.shortcut_enabled) {
    throw new Refused(
      "The `?key` shortcut is turned off for the whole bridge (config `agents.faq.shortcut_enabled`).",
    );
  }
  await store.setShortcut(ctx.roomId, enabled, ctx.sender, ctx.now);
  return enabled
    ? "The `?key` shortcut is on in this room: `?wifi` answers like `!faq wifi`."
    : "The `?key` shortcut is off in this room; `!faq <key>` still works.";
}

export async function importEntries(
  ctx: CommandContext,
  cfg: FaqConfig,
  store: FaqStore,
  json: string,
  global: boolean,
): Promise<string> {
  const scope = await requireEditor(ctx, cfg, global);
  const parsed = parseImport(json);
  if (typeof parsed === "string") throw new Refused(parsed);
  if (parsed.length === 0) throw new Refused("There are no entries in that JSON.");
  // Validate everything first: an import is all or nothing.
  const problems: string[] = [];
  const keys = new Map<string, number>();
  const aliasKeys = new Set<string>();
  for (const [i, e] of parsed.entries()) {
    const problem = keyProblem(e.key, cfg.max_key_length);
    if (problem) problems.push(`${escapeMarkdown(e.key.slice(0, 60))}: ${problem}`);
    else if (keys.has(normalizeKey(e.key))) problems.push(`${escapeMarkdown(e.key)}: listed twice.`);
    else keys.set(normalizeKey(e.key), i);
    const answerIssue = answerProblem(e.answer, cfg.max_answer_length);
    if (answerIssue) problems.push(`${escapeMarkdown(e.key.slice(0, 60))}: ${answerIssue}`);
    for (const a of e.aliases ?? []) {
      const aliasProblem = keyProblem(a, cfg.max_key_length);
      if (aliasProblem) problems.push(`alias ${escapeMarkdown(a.slice(0, 60))}: ${aliasProblem}`);
      else aliasKeys.add(normalizeKey(a));
    }
  }
  for (const a of aliasKeys) {
    if (keys.has(a) || (await store.entry(scope, a)))
      problems.push(`alias ${escapeMarkdown(a)} is also a key.`);
  }
  for (const k of keys.keys()) {
    if (await store.alias(scope, k)) problems.push(`${escapeMarkdown(k)} is an alias here; delete it first.`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).map((p) => `- ${p}`);
    if (problems.length > 8) shown.push(`- … and ${problems.length - 8} more`);
    throw new Refused(["Nothing was imported:", ...shown].join("\n"));
  }
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const existing = new Set((await store.entries(scope)).map((e) => e.key));
  await checkRoomForNew(store, scope, cfg, [...keys.keys()].filter((k) => !existing.has(k)).length);
  for (const e of parsed) {
    const key = normalizeKey(e.key);
    const current = await store.entry(scope, key);
    if (current?.answer === e.answer) unchanged++;
    else {
      await store.put(scope, key, displayKey(e.key), e.answer, ctx.sender, ctx.now, "import");
      if (current) updated++;
      else created++;
    }
    for (const a of e.aliases ?? []) {
      const alias = normalizeKey(a);
      if ((await store.alias(scope, alias))?.target !== key) {
        await store.putAlias(scope, alias, displayKey(a), key, ctx.sender, ctx.now);
      }
    }
  }
  log.info({ roomId: ctx.roomId, scope, created, updated, unchanged }, "FAQ entries imported");
  return `Imported ${parsed.length} entries${global ? " into the global list" : ""}: ${created} new, ${updated} changed, ${unchanged} unchanged.`;
}
