import type { MatrixEvent } from "../agents/types";
import type { ResolvedAgent } from "../agents/agentConfig";

export type Route =
  | { kind: "agent"; agent: ResolvedAgent; args: string; isDirect: boolean; shortcut?: boolean }
  | { kind: "help" }
  | { kind: "none" };

export interface RoomFacts {
  /** The agent this room is a DM with, if it is one. */
  dmAgentId?: string;
  isJoined(agentUserId: string): Promise<boolean>;
}

/**
 * The text of a message event, or undefined for non-text messages. An edit (m.replace) reads
 * as its new content: the host decides whether it corrects an earlier command (agentHost).
 */
export function messageText(event: MatrixEvent): string | undefined {
  if (event.type !== "m.room.message") return undefined;
  let content = event.content;
  if ((content["m.relates_to"] as { rel_type?: string } | undefined)?.rel_type === "m.replace") {
    const replacement = content["m.new_content"];
    if (!replacement || typeof replacement !== "object") return undefined;
    content = replacement as Record<string, unknown>;
  }
  if (typeof content.body !== "string") return undefined;
  if (content.msgtype !== "m.text" && content.msgtype !== "m.emote") return undefined;
  return stripReplyFallback(content.body);
}

/** Replies may carry the quoted original as "> " lines before the text (old clients). */
export function stripReplyFallback(body: string): string {
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith(">")) i++;
  if (i > 0 && lines[i] === "") i++;
  return lines.slice(i).join("\n").trim();
}

/**
 * Decides which agent a message is for (design.md, "Talking to agents"): in a DM every
 * message is for that agent; in a group room a message is for an agent when it starts with
 * its command word (!remind) or mentions it; "!help" lists the agents in the room.
 */
export async function routeMessage(
  event: MatrixEvent,
  agents: readonly ResolvedAgent[],
  room: RoomFacts,
): Promise<Route> {
  const text = messageText(event);
  if (text === undefined || text === "") return { kind: "none" };

  if (room.dmAgentId) {
    const agent = agents.find((a) => a.id === room.dmAgentId);
    if (agent) return { kind: "agent", agent, args: stripCommandWord(text, agent), isDirect: true };
  }

  const command = /^!([a-z0-9_-]+)\b\s*([\s\S]*)$/i.exec(text);
  if (command) {
    const word = command[1].toLowerCase();
    if (word === "help") return { kind: "help" };
    const agent = agents.find((a) => a.definition.manifest.command === word);
    if (agent && (await room.isJoined(agent.userId))) {
      return { kind: "agent", agent, args: command[2].trim(), isDirect: false };
    }
    return { kind: "none" };
  }

  for (const agent of agents) {
    const prefix = agent.definition.manifest.shortcutPrefix;
    if (prefix && text.startsWith(prefix) && /^\S/.test(text.slice(prefix.length))) {
      if (await room.isJoined(agent.userId)) {
        return { kind: "agent", agent, args: text, isDirect: false, shortcut: true };
      }
    }
  }

  const mentioned = (event.content["m.mentions"] as { user_ids?: unknown } | undefined)?.user_ids;
  for (const agent of agents) {
    const byMention = Array.isArray(mentioned) && mentioned.includes(agent.userId);
    const prefix = mentionPrefix(text, agent);
    if ((byMention || prefix !== undefined) && (await room.isJoined(agent.userId))) {
      return { kind: "agent", agent, args: prefix ?? stripLeadingName(text, agent), isDirect: false };
    }
  }
  return { kind: "none" };
}

/** In a DM, "!remind in 5 minutes x" works as well as "in 5 minutes x". */
function stripCommandWord(text: string, agent: ResolvedAgent): string {
  const m = new RegExp(`^!${agent.definition.manifest.command}\\b\\s*`, "i").exec(text);
  return m ? text.slice(m[0].length).trim() : text;
}

/** "Reminders: list" or "@_agent_reminders:example.org list" → "list". */
function mentionPrefix(text: string, agent: ResolvedAgent): string | undefined {
  const names = [agent.userId, agent.displayName, agent.userId.slice(1).split(":")[0]];
  for (const name of names) {
    if (text.toLowerCase().startsWith(name.toLowerCase())) {
      const rest = text.slice(name.length);
      if (rest === "" || /^[:,\s]/.test(rest)) return rest.replace(/^[:,]?\s*/, "").trim();
    }
  }
  return undefined;
}

/** A pill mention puts the display name somewhere in the body; drop it from the start if there. */
function stripLeadingName(text: string, agent: ResolvedAgent): string {
  return mentionPrefix(text, agent) ?? text;
}
