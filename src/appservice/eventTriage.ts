import type { MatrixEvent } from "../agents/types";

/**
 * Which pushed events need handling, decided while they are claimed. Most of what a bridge in busy
 * rooms receives is ordinary chat no agent is asked about and the echoes of our own messages;
 * those are recorded as handled in the claim statement itself (no transaction of their own).
 *
 * The rule is conservative: an event is inert only when it certainly is. Anything an agent or the
 * bridge could act on is handled: state the bridge tracks, messages in DMs and in rooms whose kind
 * is not known yet, messages that use a command word, a shortcut or a name of ours or mention one
 * of our users, edits and replies of those, encrypted events, reactions and redactions.
 */

export interface TriageAgent {
  userId: string;
  displayName: string;
  command: string;
  shortcutPrefix?: string;
}

/** State events the bridge acts on (membership, permissions, upgrades, encryption). */
const TRACKED_STATE = new Set([
  "m.room.member",
  "m.room.power_levels",
  "m.room.tombstone",
  "m.room.create",
  "m.room.encryption",
]);

/** Event types that may concern an agent whatever their text. */
const ALWAYS_HANDLED = new Set(["m.room.encrypted", "m.reaction", "m.room.redaction"]);

/** Rooms whose kind we remember (a bounded map: forgetting one only means handling its next message). */
const MAX_ROOMS = 20_000;

export class EventTriage {
  /** true: a DM (every message is a command); false: a group room. */
  private readonly roomIsDirect = new Map<string, boolean>();
  private readonly ourUsers: Set<string>;
  private readonly names: string[];

  constructor(
    private readonly agents: readonly TriageAgent[],
    botUserId: string,
  ) {
    this.ourUsers = new Set([botUserId, ...agents.map((a) => a.userId)]);
    this.names = agents
      .flatMap((a) => [a.userId, a.displayName, a.userId.slice(1).split(":")[0]])
      .map((n) => n.toLowerCase());
  }

  /** Learnt while handling a message (or from the DM store at start). */
  noteRoom(roomId: string, direct: boolean): void {
    if (this.roomIsDirect.get(roomId) === direct) return;
    this.roomIsDirect.delete(roomId);
    this.roomIsDirect.set(roomId, direct);
    if (this.roomIsDirect.size > MAX_ROOMS) {
      // A DM forgotten is only slower (its messages are handled as unknown-room messages).
      this.roomIsDirect.delete(this.roomIsDirect.keys().next().value as string);
    }
  }

  isInert(event: MatrixEvent): boolean {
    if (event.state_key !== undefined && TRACKED_STATE.has(event.type)) return false;
    if (this.ourUsers.has(event.sender)) return true; // our own echoes
    if (ALWAYS_HANDLED.has(event.type)) return false;
    if (event.type !== "m.room.message") return true;
    if (this.roomIsDirect.get(event.room_id) !== false) return false; // a DM, or not known yet
    return !this.addressesUs(event);
  }

  private addressesUs(event: MatrixEvent): boolean {
    const content = event.content;
    // Edits: the agent that ran the original decides (an edit may correct or withdraw a command).
    if ((content["m.relates_to"] as { rel_type?: unknown } | undefined)?.rel_type === "m.replace")
      return true;
    const mentions = (content["m.mentions"] as { user_ids?: unknown } | undefined)?.user_ids;
    if (Array.isArray(mentions) && mentions.some((u) => typeof u === "string" && this.ourUsers.has(u)))
      return true;
    const newContent = content["m.new_content"] as Record<string, unknown> | undefined;
    for (const body of [content.body, newContent?.body]) {
      if (typeof body === "string" && this.textAddressesUs(body)) return true;
    }
    return false;
  }

  private textAddressesUs(body: string): boolean {
    const text = withoutReplyFallback(body).trimStart();
    if (text.startsWith("!")) return true;
    for (const agent of this.agents) {
      if (agent.shortcutPrefix && text.startsWith(agent.shortcutPrefix)) return true;
    }
    // Only the start of the text (bounded), where a name addresses an agent ("Reminders: list").
    const head = text.slice(0, 300).toLowerCase();
    if (this.names.some((name) => head.startsWith(name))) return true;
    // A pill mention from an older client puts our user id anywhere in the body.
    for (const user of this.ourUsers) if (body.includes(user)) return true;
    return false;
  }
}

/** Replies from older clients quote the original as "> " lines before the text. */
function withoutReplyFallback(body: string): string {
  if (!body.startsWith(">")) return body;
  let i = 0;
  while (i < body.length && body[i] === ">") {
    const end = body.indexOf("\n", i);
    if (end === -1) return "";
    i = end + 1;
  }
  return body.slice(i).replace(/^\n/, "");
}
