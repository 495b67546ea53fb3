import type { Knex } from "knex";
import { BridgeError } from "../errors";
import { ParkedMessages, PARKED_LIST_LIMIT, type ParkedMessage } from "./parkedMessages";
import type { AgentPauses } from "./agentPauses";
import { renderStatus, statusFigures, type AdminAgent, type LiveFacts } from "./statusReport";
import { code, plural, span } from "./format";

/** Longest command text read (anything longer is refused before parsing). */
const MAX_COMMAND_LENGTH = 300;

export const ADMIN_HELP = [
  "Bridge admin commands:",
  "- `status`: version, uptime, database, homeserver, agents, queues, scheduler",
  "- `parked`: messages that could not be delivered",
  "- `retry <id>` or `retry all`: send parked messages again (once)",
  "- `discard <id>`: drop a parked message for good",
  "- `agents`: the agents and whether they run",
  "- `agent <id> pause` / `agent <id> resume`: stop or restart an agent answering commands",
].join("\n");

export interface AdminEnv {
  /** The database, or the transaction the command runs in. */
  db: Knex;
  agents: readonly AdminAgent[];
  pauses: AgentPauses;
  /** Absent when the bridge is not running (CLI reading the database). */
  live?: LiveFacts;
  now: Date;
  /** Who asked (a Matrix id, or "cli"), for the log. */
  by: string;
  /** A pause or resume to apply in memory once the command's writes are committed. */
  afterCommit(fn: () => void): void;
}

/** Commands that only read: the CLI runs these without a transaction. */
export function isStatusCommand(text: string): boolean {
  return /^\s*status\s*$/i.test(text);
}

/**
 * Runs one operator command and returns the answer (Markdown). The same text serves the
 * bridge bot's DM and the CLI. User mistakes come back as answers, not errors.
 */
export async function runAdminCommand(text: string, env: AdminEnv): Promise<string> {
  if (text.length > MAX_COMMAND_LENGTH)
    return `That is too long for a command (at most ${MAX_COMMAND_LENGTH} characters).`;
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? "").toLowerCase().replace(/^!/, "");
  try {
    switch (verb) {
      case "status":
        return renderStatus(await statusFigures(env.db, env.now), env.agents, env.pauses, env.live, env.now);
      case "parked":
        return await listParked(env);
      case "retry":
        return await retry(env, words[1]);
      case "discard":
        return await discard(env, words[1]);
      case "agents":
        return listAgents(env);
      case "agent":
        return await pauseOrResume(env, words[1], words[2]);
      case "":
      case "help":
        return ADMIN_HELP;
      default:
        return `I don't know \`${verb.slice(0, 30).replace(/`/g, "'")}\`.\n\n${ADMIN_HELP}`;
    }
  } catch (err) {
    if (err instanceof BridgeError && err.code.startsWith("ADMIN_"))
      return err.hint ? `${err.message}. ${err.hint}.` : `${err.message}.`;
    throw err;
  }
}

function agentName(env: AdminEnv, userId: string): string {
  return (
    env.agents.find((a) => a.userId === userId)?.id ??
    (userId.includes("agentbridge") ? "bridge bot" : userId)
  );
}

function describe(env: AdminEnv, m: ParkedMessage): string {
  const preview = m.preview ? `: “${m.preview.replace(/[`\n]/g, " ")}”` : "";
  return `${code(m.id.slice(0, 8))} ${agentName(env, m.sender)} → ${code(m.roomId)}, ${span(env.now.getTime() - m.createdAt.getTime())} ago, ${m.reason}${preview}`;
}

async function listParked(env: AdminEnv): Promise<string> {
  const { total, rows } = await new ParkedMessages(env.db).list(PARKED_LIST_LIMIT);
  if (total === 0) return "No parked messages: everything was delivered or is on its way.";
  const more = total > rows.length ? `\n…and ${total - rows.length} more.` : "";
  return [
    `**${plural(total, "parked message")}** (oldest first):`,
    ...rows.map((m) => `- ${describe(env, m)}`),
    more,
    "Fix the cause (agent kicked, room gone), then `retry <id>` or `retry all`; `discard <id>` drops one.",
  ]
    .filter(Boolean)
    .join("\n");
}

async function retry(env: AdminEnv, arg: string | undefined): Promise<string> {
  if (!arg) return "Say which: `retry <id>` (from `parked`) or `retry all`.";
  const parked = new ParkedMessages(env.db);
  if (arg.toLowerCase() === "all") {
    const n = await parked.retry("all", env.by);
    return n
      ? `Put ${plural(n, "parked message")} back in the queue; each is sent once, in its room's order.`
      : "No parked messages to retry.";
  }
  const id = await parked.resolve(arg);
  const row = await parked.get(id);
  await parked.retry([id], env.by);
  return `Put ${row ? describe(env, row) : code(id.slice(0, 8))} back in the queue; it is sent once. If it fails again it is parked again.`;
}

async function discard(env: AdminEnv, arg: string | undefined): Promise<string> {
  if (!arg) return "Say which: `discard <id>` (from `parked`).";
  const parked = new ParkedMessages(env.db);
  const id = await parked.resolve(arg);
  const row = await parked.get(id);
  await parked.discard(id, env.by);
  return `Discarded ${row ? describe(env, row) : code(id.slice(0, 8))}. It will not be sent.`;
}

function listAgents(env: AdminEnv): string {
  return [
    "Agents:",
    ...env.agents.map((a) => {
      const state = env.pauses.isPaused(a.id) ? "**paused**" : "running";
      const commands = env.live
        ? `, ${plural(env.live.commandsLastHour(a.id), "command")} in the last hour`
        : "";
      return `- ${a.id}: ${a.displayName} (${a.userId}, \`!${a.command}\`), ${state}${commands}`;
    }),
  ].join("\n");
}

async function pauseOrResume(
  env: AdminEnv,
  id: string | undefined,
  action: string | undefined,
): Promise<string> {
  const agent = env.agents.find((a) => a.id === id?.toLowerCase());
  const act = action?.toLowerCase();
  if (!agent || (act !== "pause" && act !== "resume")) {
    const ids = env.agents.map((a) => a.id).join(", ");
    return `Use \`agent <id> pause\` or \`agent <id> resume\`; agents: ${ids}.`;
  }
  const paused = act === "pause";
  const changed = await env.pauses.set(env.db, agent.id, paused, env.by);
  env.afterCommit(() => env.pauses.apply(agent.id, paused));
  if (!changed) return `${agent.id} is already ${paused ? "paused" : "running"}.`;
  return paused
    ? `Paused **${agent.id}**: it answers every command with a note that it is paused (its scheduled messages still go out). \`agent ${agent.id} resume\` undoes it.`
    : `Resumed **${agent.id}**: it answers commands again.`;
}
