import type { Knex } from "knex";
import { lazyChild, moduleLogger } from "../logging/logger";
import { Outbox } from "../store/outbox";
import type { ScheduleStore } from "../store/scheduleStore";
import type { ResolvedAgent } from "../agents/agentConfig";
import type {
  Agent,
  AgentContextBase,
  AgentSchedule,
  EventContext,
  MatrixEvent,
  OutgoingMessage,
  RoomFacts,
  UserSettings,
} from "../agents/types";
import { messageContent, type MessagePlace } from "../queue/renderMessage";
import { userSettings } from "./timezones";
import { threadOf } from "./conversation";

const log = moduleLogger("appservice/agents");

/**
 * What an agent can touch, built per event or scheduled item: every handle joins the given
 * transaction (its writes, its messages in the outbox, its scheduled items).
 */
export class AgentContexts {
  constructor(
    private readonly agents: readonly ResolvedAgent[],
    private readonly instances: ReadonlyMap<string, Agent>,
    private readonly outbox: Outbox,
    private readonly schedules: ScheduleStore,
    private readonly facts: RoomFacts,
    private readonly defaultTimezone: string,
    private readonly clock: () => Date,
  ) {}

  /** Writes a reply to `event` into the outbox as part of `db` (in its thread, if it has one). */
  reply(
    db: Knex.Transaction,
    agent: ResolvedAgent,
    event: MatrixEvent,
    message: string | OutgoingMessage,
    place: MessagePlace = { eventId: event.event_id, threadId: threadOf(event) },
  ) {
    return this.outbox.enqueue(db, {
      roomId: event.room_id,
      sender: agent.userId,
      type: "m.room.message",
      content: messageContent(message, place),
      sourceEventId: event.event_id,
    });
  }

  send(
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

  /** Every agent hears about a changed timezone, in the same transaction as the change. */
  users(db: Knex.Transaction): UserSettings {
    return userSettings(db, this.defaultTimezone, async (trx, userId, previous, zone) => {
      const notes: string[] = [];
      for (const agent of this.agents) {
        const instance = this.instances.get(agent.id);
        if (!instance?.onTimezoneChanged) continue;
        const base = this.base(trx, agent, this.clock(), log.child({ agent: agent.id, userId }));
        const note = await instance.onTimezoneChanged({ ...base, userId, previous, zone });
        if (note) notes.push(note);
      }
      return notes;
    });
  }

  base(db: Knex.Transaction, agent: ResolvedAgent, now: Date, logger = log): AgentContextBase {
    return {
      agentUserId: agent.userId,
      config: agent.config,
      db,
      log: logger,
      now,
      rooms: this.facts,
      schedule: this.scheduleFor(db, agent),
      users: this.users(db),
      send: async (roomId, message) => (await this.send(db, agent, roomId, message)).id,
    };
  }

  event(db: Knex.Transaction, agent: ResolvedAgent, event: MatrixEvent, now: Date): EventContext {
    return {
      ...this.base(
        db,
        agent,
        now,
        lazyChild(log, { agent: agent.id, roomId: event.room_id, eventId: event.event_id }),
      ),
      event,
      roomId: event.room_id,
      sender: event.sender,
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
      sentEventId: async (outboxId) =>
        (await new Outbox(db as unknown as Knex).get(outboxId))?.sentEventId ?? null,
    };
  }
}
