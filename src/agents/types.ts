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
  /** A bundled image in assets/avatars/ used when neither this nor config sets an avatar (uploaded once). */
  avatarFile?: string;
  /** Command word without the "!", e.g. "remind". */
  command: string;
  /** One line, used as the home room topic and in !help lists. */
  summary: string;
  /** Markdown help, sent when invited into a DM and on "help". */
  help: string;
  /**
   * Optional one-character shortcut for group rooms (the FAQ agent's "?key"): a message that
   * starts with it, directly followed by text, goes to this agent with the whole text as args.
   */
  shortcutPrefix?: string;
  /**
   * The core answers `tz` / `timezone` for this agent (one behaviour for every agent: IANA
   * names, canonical spelling, every agent told through onTimezoneChanged).
   */
  timezoneCommand?: boolean;
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
  /** Post into this thread (the thread root's event id). Replies to a threaded command are there already. */
  threadId?: string;
}

/** A message the bridge received earlier (e.g. the one a command replies to). */
export interface KnownMessage {
  eventId: string;
  roomId: string;
  sender: string;
  /** Its plain text (reply fallbacks removed). */
  body: string;
  /** matrix.to link to it. */
  permalink: string;
}

/** Facts about rooms and users that agents need for permission checks. */
export interface RoomFacts {
  /** The user's power level in the room (room creators in v12 rooms count as Infinity). */
  powerLevel(roomId: string, userId: string): Promise<number>;
  /** The power level the room requires for an action, e.g. notifications.room for @room. */
  requiredLevel(roomId: string, what: "room_mention" | "state_default" | "events_default"): Promise<number>;
  /** Bridge admins from bridge.admins. */
  isBridgeAdmin(userId: string): boolean;
}

/** Scheduling for time-based agents; every call joins the current event's transaction. */
export interface AgentSchedule {
  /** Fires onDue(payload) at dueAt (late, with lateMs set, if the bridge was down). Returns the item id. */
  at(dueAt: Date, payload: Record<string, unknown>): Promise<string>;
  cancel(itemId: string): Promise<boolean>;
  reschedule(itemId: string, dueAt: Date): Promise<boolean>;
}

/** Per-user settings shared by agents, read and written in the current transaction. */
export interface UserSettings {
  /** The user's IANA timezone, or the bridge default (bridge.default_timezone). */
  timezone(userId: string): Promise<string>;
  /**
   * Validates an IANA name, stores its canonical spelling and tells every agent
   * (onTimezoneChanged). Throws UserInputError for unknown names. Returns the canonical name
   * and what the agents said they did ("2 recurring reminders moved").
   */
  setTimezone(userId: string, timezone: string): Promise<{ zone: string; previous: string; notes: string[] }>;
}

/** What every agent context has, whether an event or a scheduled item triggered it. */
export interface AgentContextBase<C = Record<string, unknown>> {
  /** This agent's user id. */
  agentUserId: string;
  config: C;
  /** The current database transaction (see EventContext). */
  db: Knex.Transaction;
  log: Logger;
  now: Date;
  rooms: RoomFacts;
  schedule: AgentSchedule;
  users: UserSettings;
  /** Send a message into any room as this agent. Returns the outbox id. */
  send(roomId: string, message: string | OutgoingMessage): Promise<string>;
}

/**
 * Everything an agent can touch while handling one event. `db` *is* the event's database
 * transaction: the agent's own writes, the outbox rows from reply()/send(), and the mark
 * that the event was handled all commit together, or not at all.
 */
export interface EventContext<C = Record<string, unknown>> extends AgentContextBase<C> {
  event: MatrixEvent;
  roomId: string;
  sender: string;
  /** Reply to the triggering event (m.notice in reply to it). Returns the outbox id. */
  reply(message: string | OutgoingMessage): Promise<string>;
  /** React to an event as this agent. */
  react(roomId: string, eventId: string, key: string): Promise<string>;
  /** The Matrix event id an earlier reply/send got, once delivered (null while pending). */
  sentEventId(outboxId: string): Promise<string | null>;
}

export interface CommandContext<C = Record<string, unknown>> extends EventContext<C> {
  /** True when the room is a DM between the sender and this agent. */
  isDirect: boolean;
  /** The text after the command word (or the whole body in a DM), trimmed. */
  args: string;
  /** The event this message replies to, if any (e.g. "cancel" in reply to a confirmation). */
  inReplyTo?: string;
  /** The message replied to, when the bridge saw it (null if not, or if it is gone). */
  repliedMessage(): Promise<KnownMessage | null>;
  /** The thread the command was sent in (its root event id); replies go there by themselves. */
  threadId?: string;
  /**
   * Set when this command is an edit (m.replace) of an earlier command of this agent, sent
   * within a few minutes: replace what the original created. Replies edit the original reply.
   */
  edit?: { originalEventId: string };
}

export interface ReactionContext<C = Record<string, unknown>> extends EventContext<C> {
  /** The event reacted to. */
  targetEventId: string;
  key: string;
}

export interface RedactionContext<C = Record<string, unknown>> extends EventContext<C> {
  /** The id of the redacted event (e.g. a reaction being removed). */
  redacts: string;
}

/** A user changed their timezone (through any agent's `tz`): move what depends on it. */
export interface TimezoneChangeContext<C = Record<string, unknown>> extends AgentContextBase<C> {
  userId: string;
  previous: string;
  zone: string;
}

export interface RoomUpgradeContext<C = Record<string, unknown>> extends EventContext<C> {
  oldRoomId: string;
  newRoomId: string;
}

/** A scheduled item falling due. Send with `send`; the item is done unless `repeatAt` is called. */
export interface DueContext<C = Record<string, unknown>> extends AgentContextBase<C> {
  itemId: string;
  payload: Record<string, unknown>;
  dueAt: Date;
  /** How late the firing is (large after downtime; say so to the user). */
  lateMs: number;
  /** How many times this item has fired before. */
  firedCount: number;
  /** Open (or reuse) a DM between this agent and a user, e.g. to deliver something privately. */
  openDm(userId: string): Promise<string>;
  /** Keep the item and fire it again at this time (recurrence). */
  repeatAt(dueAt: Date, payload?: Record<string, unknown>): void;
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
  /** A reaction in a room this agent is in (check targetEventId against your own messages). */
  onReaction?(ctx: ReactionContext<C>): Promise<void>;
  /** A redaction in a room this agent is in (e.g. a reaction taken back). */
  onRedaction?(ctx: RedactionContext<C>): Promise<void>;
  /** The room was upgraded (tombstone): move the agent's data to the new room. */
  onRoomUpgrade?(ctx: RoomUpgradeContext<C>): Promise<void>;
  /** A user's timezone changed; return a short sentence for the confirmation if anything moved. */
  onTimezoneChanged?(ctx: TimezoneChangeContext<C>): Promise<string | void>;
  /** One of this agent's scheduled items fell due. */
  onDue?(ctx: DueContext<C>): Promise<void>;
}

/** How the registry holds agents: a manifest and a factory, so disabled agents cost nothing. */
export interface AgentDefinition<C = Record<string, unknown>> {
  manifest: AgentManifest;
  create(): Agent<C>;
}
