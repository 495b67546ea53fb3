import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { UserInputError, errorMessage } from "../errors";
import type { Outbox } from "../store/outbox";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { Agent, AgentServices, CommandContext, MatrixEvent, OutgoingMessage } from "../agents/types";
import { messageContent } from "../queue/renderMessage";
import { RateLimiter } from "./rateLimiter";

const log = moduleLogger("appservice/agents");

export interface AgentHostOptions {
  commandsPerMinute: number;
  domain: string;
  admins: readonly string[];
}

/**
 * Runs agents: starts them, builds each command's context, and contains their failures.
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

  /** Writes a reply to `event` into the outbox as part of `trx`. */
  reply(trx: Knex.Transaction, agent: ResolvedAgent, event: MatrixEvent, message: string | OutgoingMessage) {
    return this.outbox.enqueue(trx, {
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
  ): Promise<void> {
    if (!this.limiter.take(event.sender)) {
      if (!this.warnedAboutRate.has(event.sender)) {
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
    const agentLog = log.child({ agent: agent.id, roomId: event.room_id, eventId: event.event_id });
    try {
      await trx.transaction(async (db) => {
        const ctx: CommandContext = {
          event,
          roomId: event.room_id,
          sender: event.sender,
          isDirect,
          args,
          agentUserId: agent.userId,
          config: agent.config,
          db,
          log: agentLog,
          now: new Date(),
          reply: async (message) => (await this.reply(db, agent, event, message)).id,
          send: async (roomId, message) =>
            (
              await this.outbox.enqueue(db, {
                roomId,
                sender: agent.userId,
                type: "m.room.message",
                content: messageContent(message),
                sourceEventId: event.event_id,
              })
            ).id,
        };
        await instance.onCommand(ctx);
      });
    } catch (err) {
      if (err instanceof UserInputError) {
        await this.reply(trx, agent, event, err.message);
        return;
      }
      const ref = randomBytes(4).toString("hex");
      agentLog.error(
        { ref, err: errorMessage(err), stack: (err as Error)?.stack },
        "Agent failed on a command",
      );
      await this.reply(trx, agent, event, `Sorry, something went wrong on my side (reference \`${ref}\`).`);
    }
  }
}
