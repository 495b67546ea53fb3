import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { Outbox } from "../store/outbox";
import type { ScheduleStore, ScheduledItem } from "../store/scheduleStore";
import type { ResolvedAgent } from "../agents/agentConfig";
import type {
  Agent,
  AgentServices,
  CommandContext,
  EventContext,
  MatrixEvent,
  OutgoingMessage,
  RoomFacts,
} from "../agents/types";
import type { MessagePlace } from "../queue/renderMessage";
import { CommandGate } from "./commandGate";
import { knownMessage, readEdit, replyTarget, threadOf } from "./conversation";
import { answerTimezoneCommand, isTimezoneCommand } from "./timezones";
import { AgentContexts } from "./agentContexts";
import { runContained } from "./containment";
import { runDueItem, type DueResult } from "./dueItems";

const log = moduleLogger("appservice/agents");

export type CommandOutcome = "ok" | "user_error" | "failed" | "rate_limited" | "paused";

export interface AgentHostOptions {
  commandsPerMinute: number;
  domain: string;
  admins: readonly string[];
  defaultTimezone: string;
  /** Opens (or reuses) the DM between an agent and a user. */
  openDm(agent: ResolvedAgent, userId: string, db: Knex.Transaction): Promise<string>;
  /** The time agents see as `now` (tests pass a fixed clock). */
  clock?: () => Date;
  /** Called once per command, e.g. for metrics. */
  commandFinished?(agentId: string, outcome: CommandOutcome, ms: number): void;
  /** A bridge admin paused this agent (`agent <id> pause`): it answers that it is paused. */
  isPaused?(agentId: string): boolean;
  /** Called for each failure answered with a reference id (metrics). */
  agentFailed?(agentId: string, ref: string): void;
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
  private readonly gate: CommandGate;
  private readonly clock: () => Date;
  private readonly contexts: AgentContexts;

  /** Senders the command rate limiter tracks (a metric). */
  get rateLimitedSenders(): number {
    return this.gate.trackedSenders;
  }

  constructor(
    readonly agents: readonly ResolvedAgent[],
    private readonly outbox: Outbox,
    private readonly schedules: ScheduleStore,
    private readonly facts: RoomFacts,
    private readonly opts: AgentHostOptions,
  ) {
    this.gate = new CommandGate(opts.commandsPerMinute, (id) => this.opts.isPaused?.(id) === true);
    this.clock = opts.clock ?? (() => new Date());
    this.contexts = new AgentContexts(
      agents,
      this.instances,
      outbox,
      schedules,
      facts,
      opts.defaultTimezone,
      this.clock,
    );
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

  /** Writes a reply to `event` into the outbox as part of `db` (in its thread, if it has one). */
  reply(
    db: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    message: string | OutgoingMessage,
    place?: MessagePlace,
  ) {
    return this.contexts.reply(db, agent, event, message, place);
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
    const started = performance.now();
    const outcome = await this.command(trx, agent, event, args, isDirect, shortcut);
    if (outcome) this.opts.commandFinished?.(agent.id, outcome, performance.now() - started);
  }

  private async command(
    trx: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    args: string,
    isDirect: boolean,
    shortcut: boolean,
  ): Promise<CommandOutcome | undefined> {
    const refused = this.gate.check(agent.id, event.sender, shortcut);
    if (refused) {
      if (refused.notice) await this.reply(trx, agent, event, refused.notice);
      return refused.outcome;
    }
    // Where the answer goes: the command's thread; for a corrected command, over the old answer.
    const edit = await readEdit(trx, agent.userId, event);
    if (edit.kind === "ignore") return undefined;
    if (edit.kind === "too_late") {
      await this.reply(
        trx,
        agent,
        event,
        "I only take edits made within 10 minutes of a command. Send it again as a new message.",
      );
      return "user_error";
    }
    // An edit carries no relations of its own: the thread and the reply are the original's.
    const command = edit.kind === "edit" ? edit.original : event;
    const threadId = threadOf(command);
    let place: MessagePlace = { eventId: event.event_id, threadId };
    if (edit.kind === "edit") {
      place = edit.replyEventId
        ? { replaces: edit.replyEventId }
        : { eventId: edit.originalEventId, threadId };
    }
    const answer = (message: string | OutgoingMessage) => this.reply(trx, agent, event, message, place);
    if (/^help$/i.test(args) || (args === "" && !isDirect)) {
      await answer(agent.definition.manifest.help);
      return "ok";
    }
    const instance = this.instances.get(agent.id);
    if (!instance) {
      await answer("Sorry, I am offline at the moment. Please try again later.");
      return "failed";
    }
    const now = this.clock();
    if (agent.definition.manifest.timezoneCommand && isTimezoneCommand(args)) {
      return this.contained(trx, agent, event, place, true, async (db) => {
        const users = this.contexts.users(db);
        const prefix = isDirect ? "" : `!${agent.definition.manifest.command} `;
        await this.reply(
          db,
          agent,
          event,
          await answerTimezoneCommand(users, event.sender, args, now, prefix),
          place,
        );
      });
    }
    return this.contained(trx, agent, event, place, true, (db) => {
      let first = true;
      const ctx: CommandContext = {
        ...this.contexts.event(db, agent, event, now),
        // Only the first answer to a corrected command replaces the old one; any more are new.
        reply: async (message) => {
          const at = first ? place : { eventId: event.event_id, threadId };
          first = false;
          return (await this.reply(db, agent, event, message, at)).id;
        },
        isDirect,
        args,
        inReplyTo: replyTarget(command),
        repliedMessage: async () => {
          const target = replyTarget(command);
          return target ? knownMessage(db, event.room_id, target) : null;
        },
        threadId,
        edit: edit.kind === "edit" ? { originalEventId: edit.originalEventId } : undefined,
      };
      return instance.onCommand(ctx);
    });
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
    await this.contained(trx, agent, event, undefined, false, (db) =>
      fn.call(instance, { ...this.contexts.event(db, agent, event, this.clock()), ...extra }),
    );
  }

  /** Runs an agent's onDue for a scheduled item inside the scheduler's transaction. */
  async runDue(trx: Knex.Transaction, item: ScheduledItem): Promise<DueResult> {
    const agent = this.byId(item.agentId);
    const instance = this.instances.get(item.agentId);
    if (!agent || !instance?.onDue)
      throw new Error(`Agent ${item.agentId} cannot handle scheduled items now`);
    return runDueItem(trx, item, agent, instance, this.clock(), this.contexts, (userId) =>
      this.opts.openDm(agent, userId, trx),
    );
  }

  private contained(
    trx: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    place: MessagePlace | undefined,
    apologise: boolean,
    fn: (db: Knex.Transaction) => Promise<void>,
  ): Promise<CommandOutcome> {
    return runContained(
      {
        reply: (message) => this.reply(trx, agent, event, message, place),
        agentFailed: (ref) => this.opts.agentFailed?.(agent.id, ref),
      },
      trx,
      { agent: agent.id, roomId: event.room_id, eventId: event.event_id },
      apologise,
      fn,
    );
  }
}
