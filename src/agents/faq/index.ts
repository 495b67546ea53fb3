import { agentLogger, capArguments } from "../kit";
import type { AgentDefinition, AgentManifest, CommandContext, RoomUpgradeContext } from "../types";
import { FAQ_CONFIG_SPEC, faqConfig } from "./config";
import { addAlias, deleteEntry, edit, importEntries, revertEntry, setEntry, setShortcut } from "./edit";
import { FAQ_MIGRATIONS } from "./migrations";
import { parseFaqCommand } from "./parse";
import { handleExport, handleGet, handleHistory, handleList, handleSearch } from "./read";
import { FaqStore } from "./store";

const log = agentLogger("agents/faq");
const MAX_FAQ_COMMAND = 256 * 1024;

const HELP = [
  "I keep answers to frequent questions, per room and for the whole bridge.",
  "",
  "- `!faq <key>` or `?<key>`: show an answer (`!faq wifi`, `?wifi`)",
  "- `!faq list`: every key here · `!faq search <words>`: find answers",
  '- `!faq set <key> <answer…>`: save an answer (Markdown; quote keys with spaces: `!faq set "wifi guest" …`)',
  "- `!faq delete <key>` · `!faq alias <alias> <key>`",
  "- `!faq history <key>` · `!faq revert <key> <n>`",
  "- `!faq shortcut on|off`: turn the `?key` shortcut on or off in this room",
  "- `!faq export` · `!faq import <json>`: copy a room's entries",
  "- Bridge admins add `--global` to set/delete for entries every room sees; room entries win.",
  "",
  "Editing needs a moderator (power level 50 by default) or a bridge admin.",
].join("\n");

/**
 * `shortcutPrefix`: the router hands group-room messages starting with "?" to this agent with
 * the whole text as args; the agent decides whether to answer (see read.ts, handleGet).
 */
const manifest: AgentManifest = {
  id: "faq",
  displayName: "FAQ",
  avatarFile: "faq.png",
  command: "faq",
  summary: "Answers frequent questions: `!faq <key>` or `?key`; moderators save answers.",
  help: HELP,
  enabledByDefault: true,
  configSpec: FAQ_CONFIG_SPEC,
  migrations: FAQ_MIGRATIONS,
  shortcutPrefix: "?",
};

export async function onFaqCommand(ctx: CommandContext): Promise<void> {
  const cfg = faqConfig(ctx.config);
  // An import may carry a large JSON document; nothing else comes near this.
  const cmd = parseFaqCommand(capArguments(ctx.args, MAX_FAQ_COMMAND));
  if (!cmd) return;
  const store = new FaqStore(ctx.db);
  switch (cmd.kind) {
    case "usage":
      return void (await ctx.reply(cmd.message));
    case "get":
      return handleGet(ctx, cfg, store, cmd.key, cmd.shortcut);
    case "list":
      return handleList(ctx, store);
    case "search":
      return handleSearch(ctx, cfg, store, cmd.text);
    case "history":
      return handleHistory(ctx, store, cmd.key, cmd.global);
    case "export":
      return handleExport(ctx, cfg, store, cmd.global);
    case "set":
      return edit(ctx, () => setEntry(ctx, cfg, store, cmd.key, cmd.answer, cmd.global));
    case "delete":
      return edit(ctx, () => deleteEntry(ctx, cfg, store, cmd.key, cmd.global));
    case "alias":
      return edit(ctx, () => addAlias(ctx, cfg, store, cmd.alias, cmd.target, cmd.global));
    case "revert":
      return edit(ctx, () => revertEntry(ctx, cfg, store, cmd.key, cmd.n, cmd.global));
    case "shortcut":
      return edit(ctx, () => setShortcut(ctx, cfg, store, cmd.enabled));
    case "import":
      return edit(ctx, () => importEntries(ctx, cfg, store, cmd.json, cmd.global));
  }
}

/** A room upgrade: the room's entries, aliases, history and settings move to the new room. */
export async function onFaqRoomUpgrade(ctx: RoomUpgradeContext): Promise<void> {
  const { entries } = await new FaqStore(ctx.db).moveRoom(ctx.oldRoomId, ctx.newRoomId);
  log.info(
    { oldRoomId: ctx.oldRoomId, newRoomId: ctx.newRoomId, entries },
    "FAQ entries followed the upgrade",
  );
}

export const faqAgent: AgentDefinition = {
  manifest,
  create: () => ({
    manifest,
    onCommand: onFaqCommand,
    onRoomUpgrade: onFaqRoomUpgrade,
  }),
};
