import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { UserInputError, errorMessage } from "../errors";
import { Outbox } from "../store/outbox";
import type { ScheduleStore, ScheduledItem } from "../store/scheduleStore";
import type { ResolvedAgent } from "../agents/agentConfig";
import type {
  Agent,
  AgentSchedule,
  AgentServices,
  UserSettings,
  DueContext,
  EventContext,
  MatrixEvent,
  OutgoingMessage,
  RoomFacts,
} from "../agents/types";
import { messageContent } from "../queue/renderMessage";
import { RateLimiter } from "./rateLimiter";
import { UserPrefs } from "../store/userPrefs";
import { needsHomeserver } from "../store/transactionScope";

const log = moduleLogger("appservice/agents");

export interface AgentHostOptions {
  commandsPerMinute: number;
  domain: string;
  admins: readonly string[];
  defaultTimezone: string;
  /** Opens (or reuses) the DM between an agent and a user. */
  openDm(agent: ResolvedAgent, userId: string, db: Knex.Transaction): Promise<string>;
}

export type EventHook = "onReaction" | "onRedaction" | "onRoomUpgrade";

/**
 * Runs agents: starts them, builds each event's context, and contains their failures.
 * An agent's work for one event runs in a savepoint of the event's transaction: if it
 * throws, its writes and replies are rolled back and the user gets a short apology with a
 * reference id that is also in the log; the bridge and the other agents carry on.
 */
export class AgentHost {
  private readonly instances = new Map<string, Agent>();
  private readonly limiter: RateLimiter;
  private readonly warnedAboutRate = new Set<string>();

  constructor(
    readonly agents: readonly ResolvedAgent[],
    private readonly outbox: Outbox,
    private readonly schedules: ScheduleStore,
    private readonly facts: RoomFacts,
    private readonly opts: AgentHostOptions,
  ) {
    this.limiter = new RateLimiter(opts.commandsPerMinute);
  }

  byUserId(userId: string): ResolvedAgent | undefined {
    return this.agents.find((a) => a.userId === userId);
  }

  byId(id: string): ResolvedAgent | undefined {
    return this.agents.find((a) => a.id === id);
  }

  /** Ids of running agents that handle scheduled items. */
  scheduledAgentIds(): string[] {
    return [...this.instances.entries()].filter(([, i]) => typeof i.onDue === "function").map(([id]) => id);
  }

  async startAll(knex: Knex): Promise<void> {
    for (const agent of this.agents) {
      const instance = agent.definition.create();
      const services: AgentServices = {
        knex,
        log: log.child({ agent: agent.id }),
        agentUserId: agent.userId,
        domain: this.opts.domain,
        admins: this.opts.admins,
      };
      try {
        await instance.start?.(services, agent.config);
        this.instances.set(agent.id, instance);
      } catch (err) {
        log.error({ agent: agent.id, err: errorMessage(err) }, "Agent failed to start; it stays offline");
      }
    }
  }

  async stopAll(): Promise<void> {
    for (const [id, instance] of this.instances) {
      await instance
        .stop?.()
        .catch((err) => log.warn({ agent: id, err: errorMessage(err) }, "Agent stop failed"));
    }
  }

  /** Writes a reply to `event` into the outbox as part of `db`. */
  async reply(
    db: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    message: string | OutgoingMessage,
  ) {
    return this.outbox.enqueue(db, {
      roomId: event.room_id,
      sender: agent.userId,
      type: "m.room.message",
      content: messageContent(message, { eventId: event.event_id }),
      sourceEventId: event.event_id,
    });
  }

  async runCommand(
    trx: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    args: string,
    isDirect: boolean,
    /** A shortcut (?key) in a group room: people may not mean it as a command, so no warning. */
    shortcut = false,
  ): Promise<void> {
    if (!this.limiter.take(event.sender)) {
      if (!shortcut && !this.warnedAboutRate.has(event.sender)) {
        this.warnedAboutRate.add(event.sender);
        await this.reply(
          trx,
          agent,
          event,
          "You are sending commands too fast; I'll skip a few. Try again in a minute.",
        );
      }
      return;
    }
    this.warnedAboutRate.delete(event.sender);
    if (/^help$/i.test(args) || (args === "" && !isDirect)) {
      await this.reply(trx, agent, event, agent.definition.manifest.help);
      return;
    }
    const instance = this.instances.get(agent.id);
    if (!instance) {
      await this.reply(trx, agent, event, "Sorry, I am offline at the moment. Please try again later.");
      return;
    }
    const relates = event.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined;
    const inReplyTo = relates?.["m.in_reply_to"]?.event_id;
    await this.contained(trx, agent, event, true, (db) =>
      instance.onCommand({ ...this.eventContext(db, agent, event), isDirect, args, inReplyTo }),
    );
  }

  /** Reactions, redactions and room upgrades go to every agent in the room that handles them. */
  async runHook(
    trx: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    hook: EventHook,
    extra: Record<string, unknown>,
  ): Promise<void> {
    const instance = this.instances.get(agent.id);
    const fn = instance?.[hook] as ((ctx: EventContext) => Promise<void>) | undefined;
    if (!instance || !fn) return;
    // No apology for hooks: the user did not address the agent, so failures are only logged.
    await this.contained(trx, agent, event, false, (db) =>
      fn.call(instance, { ...this.eventContext(db, agent, event), ...extra }),
    );
  }

  /** Runs an agent's onDue for a scheduled item inside the scheduler's transaction. */
  async runDue(
    trx: Knex.Transaction,
    item: ScheduledItem,
  ): Promise<"done" | { repeatAt: Date; payload?: Record<string, unknown> }> {
    const agent = this.byId(item.agentId);
    const instance = this.instances.get(item.agentId);
    if (!agent || !instance?.onDue)
      throw new Error(`Agent ${item.agentId} cannot handle scheduled items now`);
    const now = new Date();
    let repeat: { repeatAt: Date; payload?: Record<string, unknown> } | undefined;
    const ctx: DueContext = {
      itemId: item.id,
      payload: item.payload,
      dueAt: item.dueAt,
      lateMs: Math.max(0, now.getTime() - item.dueAt.getTime()),
      firedCount: item.firedCount,
      agentUserId: agent.userId,
      config: agent.config,
      db: trx,
      log: log.child({ agent: agent.id, itemId: item.id }),
      now,
      rooms: this.facts,
      schedule: this.scheduleFor(trx, agent),
      users: this.usersFor(trx),
      send: async (roomId, message) => (await this.send(trx, agent, roomId, message)).id,
      openDm: (userId) => this.opts.openDm(agent, userId, trx),
      repeatAt: (dueAt, payload) => {
        repeat = { repeatAt: dueAt, payload };
      },
    };
    await instance.onDue(ctx);
    return repeat ?? "done";
  }

  private send(
    db: Knex.Transaction,
    agent: ResolvedAgent,
    roomId: string,
    message: string | OutgoingMessage,
    source?: string,
  ) {
    return this.outbox.enqueue(db, {
      roomId,
      sender: agent.userId,
      type: "m.room.message",
      content: messageContent(message),
      sourceEventId: source,
    });
  }

  private scheduleFor(db: Knex.Transaction, agent: ResolvedAgent): AgentSchedule {
    return {
      at: (dueAt, payload) => this.schedules.add(db, agent.id, dueAt, payload),
      cancel: (itemId) => this.schedules.cancel(db, agent.id, itemId),
      reschedule: (itemId, dueAt) => this.schedules.reschedule(db, agent.id, itemId, dueAt),
    };
  }

  private usersFor(db: Knex.Transaction): UserSettings {
    const prefs = new UserPrefs(db);
    return {
      timezone: async (userId) => (await prefs.timezone(userId)) ?? this.opts.defaultTimezone,
      setTimezone: (userId, timezone) => prefs.setTimezone(userId, timezone),
    };
  }

  private eventContext(db: Knex.Transaction, agent: ResolvedAgent, event: MatrixEvent): EventContext {
    return {
      event,
      roomId: event.room_id,
      sender: event.sender,
      agentUserId: agent.userId,
      config: agent.config,
      db,
      log: log.child({ agent: agent.id, roomId: event.room_id, eventId: event.event_id }),
      now: new Date(),
      rooms: this.facts,
      schedule: this.scheduleFor(db, agent),
      users: this.usersFor(db),
      reply: async (message) => (await this.reply(db, agent, event, message)).id,
      send: async (roomId, message) => (await this.send(db, agent, roomId, message, event.event_id)).id,
      react: async (roomId, eventId, key) =>
        (
          await this.outbox.enqueue(db, {
            roomId,
            sender: agent.userId,
            type: "m.reaction",
            content: { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } },
            sourceEventId: event.event_id,
          })
        ).id,
      // Through the event's transaction: on the embedded database it holds the only connection.
      sentEventId: async (outboxId) => (await new Outbox(db).get(outboxId))?.sentEventId ?? null,
    };
  }

  /** Runs `fn` in a savepoint; on failure rolls it back and (optionally) apologises with a reference. */
  private async contained(
    trx: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    apologise: boolean,
    fn: (db: Knex.Transaction) => Promise<void>,
  ): Promise<void> {
    try {
      await trx.transaction(fn);
    } catch (err) {
      // Not the agent's failure: the whole transaction re-runs once the homeserver answered.
      if (needsHomeserver(err)) throw err;
      if (err instanceof UserInputError) {
        await this.reply(trx, agent, event, err.message);
        return;
      }
      const ref = randomBytes(4).toString("hex");
      log.error(
        {
          ref,
          agent: agent.id,
          roomId: event.room_id,
          eventId: event.event_id,
          err: errorMessage(err),
          stack: (err as Error)?.stack,
        },
        "Agent failed on an event",
      );
      if (apologise)
        await this.reply(trx, agent, event, `Sorry, something went wrong on my side (reference \`${ref}\`).`);
    }
  }
}
