import type { Knex } from "knex";
import type { Logger } from "pino";
import type { SectionSpec } from "../config/fields";
import type { MigrationSet } from "../store/migrations";

/** A Matrix event as the homeserver delivers it in a transaction. */
export interface MatrixEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  state_key?: string;
  origin_server_ts?: number;
  content: Record<string, unknown>;
  unsigned?: Record<string, unknown>;
}

/** What an agent declares about itself. The core reads nothing else. */
export interface AgentManifest {
  /** Stable id: the agent user is @<prefix><id>. Lower-case letters and digits. */
  id: string;
  displayName: string;
  /** mxc:// URI, or undefined for none. */
  avatarUrl?: string;
  /** Command word without the "!", e.g. "remind". */
  command: string;
  /** One line, used as the home room topic and in !help lists. */
  summary: string;
  /** Markdown help, sent when invited into a DM and on "help". */
  help: string;
  /** Whether the agent runs when its config section does not say. */
  enabledByDefault: boolean;
  /** The agent's own config keys (validated, with defaults; env MAB_AGENTS_<ID>_<KEY>). */
  configSpec?: SectionSpec;
  /** The agent's own tables. */
  migrations?: MigrationSet["migrations"];
}

export interface OutgoingMessage {
  /** Markdown; rendered to sanitized HTML, with the Markdown source as the plain body. */
  markdown: string;
  /** m.notice (default) for replies, m.text for messages meant to notify people. */
  msgtype?: "m.notice" | "m.text";
  /** Users to mention (filled into m.mentions so clients notify them). */
  mentions?: string[];
  /** Mention the whole room (@room); the caller must have checked the sender may. */
  mentionRoom?: boolean;
}

/**
 * Everything an agent can touch while handling one event. `db` *is* the event's database
 * transaction: the agent's own writes, the outbox rows from reply()/send(), and the mark
 * that the event was handled all commit together, or not at all.
 */
export interface CommandContext<C = Record<string, unknown>> {
  event: MatrixEvent;
  roomId: string;
  sender: string;
  /** True when the room is a DM between the sender and this agent. */
  isDirect: boolean;
  /** The text after the command word (or the whole body in a DM), trimmed. */
  args: string;
  /** This agent's user id. */
  agentUserId: string;
  config: C;
  db: Knex.Transaction;
  log: Logger;
  now: Date;
  /** Reply to the triggering event (m.notice in reply to it). Returns the outbox id. */
  reply(message: string | OutgoingMessage): Promise<string>;
  /** Send a message into any room as this agent. */
  send(roomId: string, message: string | OutgoingMessage): Promise<string>;
}

export interface AgentServices {
  knex: Knex;
  log: Logger;
  agentUserId: string;
  domain: string;
  admins: readonly string[];
}

export interface Agent<C = Record<string, unknown>> {
  readonly manifest: AgentManifest;
  start?(services: AgentServices, config: C): Promise<void>;
  stop?(): Promise<void>;
  /** A message addressed to this agent (DM, command word, or mention). */
  onCommand(ctx: CommandContext<C>): Promise<void>;
}

/** How the registry holds agents: a manifest and a factory, so disabled agents cost nothing. */
export interface AgentDefinition<C = Record<string, unknown>> {
  manifest: AgentManifest;
  create(): Agent<C>;
}
