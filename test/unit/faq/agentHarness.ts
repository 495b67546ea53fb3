/**
 * Runs one agent the way AgentHost does, without Matrix: each command in its own transaction
 * and savepoint, UserInputError answered as a reply, the real ScheduleStore, scheduler
 * dispatcher and user preferences, and messages captured instead of queued. Used by the FAQ
 * and timer tests (unit ones on in-memory PGlite, store ones on both backends).
 */
import type { Knex } from "knex";
import { UserInputError } from "../../../src/errors";
import { configureLogging, rootLogger } from "../../../src/logging/logger";
import { openDatabase, IN_MEMORY, type Database } from "../../../src/store/database";
import { migrate } from "../../../src/store/migrations";
import { ScheduleStore } from "../../../src/store/scheduleStore";
import { UserPrefs } from "../../../src/store/userPrefs";
import { SchedulerDispatcher } from "../../../src/scheduler/dispatcher";
import type {
  Agent,
  AgentDefinition,
  DueContext,
  EventContext,
  MatrixEvent,
  OutgoingMessage,
  RoomFacts,
} from "../../../src/agents/types";

export interface Sent {
  roomId: string;
  markdown: string;
  msgtype: "m.notice" | "m.text";
  mentions: string[];
  /** The command event it answers (replies only). */
  replyTo?: string;
}

export interface HarnessOptions {
  /** An open database (store tests pass each backend's); default: in-memory PGlite. */
  db?: Database;
  config?: Record<string, unknown>;
  admins?: string[];
}

export class AgentHarness {
  readonly sent: Sent[] = [];
  readonly power = new Map<string, number>();
  now = new Date("2025-03-01T12:00:00Z");
  private seq = 0;
  private readonly schedules: ScheduleStore;

  private constructor(
    readonly db: Database,
    readonly agent: Agent,
    readonly definition: AgentDefinition,
    readonly config: Record<string, unknown>,
    readonly admins: Set<string>,
    private readonly ownsDb: boolean,
  ) {
    this.schedules = new ScheduleStore(db.knex);
  }

  static async create(definition: AgentDefinition, opts: HarnessOptions = {}): Promise<AgentHarness> {
    configureLogging({ level: process.env.MAB_TEST_LOG_LEVEL ?? "warn", format: "json" });
    const db = opts.db ?? (await openDatabase({ data_dir: IN_MEMORY }));
    const { id, migrations } = definition.manifest;
    await migrate(db, migrations?.length ? [{ owner: id, migrations }] : []);
    return new AgentHarness(
      db,
      definition.create(),
      definition,
      opts.config ?? {},
      new Set(opts.admins ?? []),
      !opts.db,
    );
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.close();
  }

  setPower(roomId: string, userId: string, level: number): void {
    this.power.set(`${roomId}|${userId}`, level);
  }

  /** Moves the clock (timers, history times). */
  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  get facts(): RoomFacts {
    return {
      powerLevel: async (roomId, userId) => this.power.get(`${roomId}|${userId}`) ?? 0,
      requiredLevel: async () => 50,
      isBridgeAdmin: (userId) => this.admins.has(userId),
    };
  }

  private base(db: Knex.Transaction, event: MatrixEvent): EventContext {
    const agentUserId = `@_agent_${this.definition.manifest.id}:test`;
    const prefs = new UserPrefs(db);
    const push = (roomId: string, message: string | OutgoingMessage, replyTo?: string) => {
      const m = typeof message === "string" ? { markdown: message } : message;
      this.sent.push({
        roomId,
        markdown: m.markdown,
        msgtype: m.msgtype ?? "m.notice",
        mentions: m.mentions ?? [],
        replyTo,
      });
      return `out-${this.sent.length}`;
    };
    return {
      event,
      roomId: event.room_id,
      sender: event.sender,
      agentUserId,
      config: this.config,
      db,
      log: rootLogger().child({ agent: this.definition.manifest.id }),
      now: this.now,
      rooms: this.facts,
      schedule: {
        at: (dueAt, payload) => this.schedules.add(db, this.definition.manifest.id, dueAt, payload),
        cancel: (itemId) => this.schedules.cancel(db, this.definition.manifest.id, itemId),
        reschedule: (itemId, dueAt) =>
          this.schedules.reschedule(db, this.definition.manifest.id, itemId, dueAt),
      },
      users: {
        timezone: async (userId) => (await prefs.timezone(userId)) ?? "UTC",
        setTimezone: async (userId, zone) => {
          const previous = (await prefs.timezone(userId)) ?? "UTC";
          await prefs.setTimezone(userId, zone);
          return { zone, previous, notes: [] };
        },
      },
      reply: async (message) => push(event.room_id, message, event.event_id),
      send: async (roomId, message) => push(roomId, message),
      react: async () => "reaction",
      sentEventId: async () => null,
    };
  }

  /** Runs a command like AgentHost.runCommand (minus rate limits and help); returns what it said. */
  async command(
    sender: string,
    roomId: string,
    args: string,
    opts: { isDirect?: boolean } = {},
  ): Promise<Sent[]> {
    const start = this.sent.length;
    const event: MatrixEvent = {
      event_id: `$cmd${++this.seq}`,
      room_id: roomId,
      type: "m.room.message",
      sender,
      content: { msgtype: "m.text", body: args },
    };
    await this.db.knex.transaction(async (trx) => {
      const before = this.sent.length;
      try {
        await trx.transaction((sp) =>
          this.agent.onCommand({
            ...this.base(sp, event),
            isDirect: opts.isDirect ?? false,
            args,
            repliedMessage: async () => null,
          }),
        );
      } catch (err) {
        this.sent.length = before; // rolled back with the savepoint
        if (!(err instanceof UserInputError)) throw err;
        this.sent.push({
          roomId,
          markdown: err.message,
          msgtype: "m.notice",
          mentions: [],
          replyTo: event.event_id,
        });
      }
    });
    return this.sent.slice(start);
  }

  /** The text of the single reply to a command. */
  async say(
    sender: string,
    roomId: string,
    args: string,
    opts: { isDirect?: boolean } = {},
  ): Promise<string> {
    const out = await this.command(sender, roomId, args, opts);
    if (out.length !== 1) throw new Error(`expected one reply to "${args}", got ${out.length}`);
    return out[0].markdown;
  }

  async upgrade(oldRoomId: string, newRoomId: string): Promise<void> {
    const event: MatrixEvent = {
      event_id: `$tomb${++this.seq}`,
      room_id: oldRoomId,
      type: "m.room.tombstone",
      state_key: "",
      sender: "@mod:test",
      content: { replacement_room: newRoomId },
    };
    await this.db.knex.transaction((trx) =>
      this.agent.onRoomUpgrade!({ ...this.base(trx, event), oldRoomId, newRoomId }),
    );
  }

  /** Fires every item due at the harness clock through the real dispatcher; returns how many. */
  async fireDue(): Promise<number> {
    const dispatcher = new SchedulerDispatcher(
      this.db.knex,
      this.schedules,
      [this.definition.manifest.id],
      async (item, trx) => {
        const event = { event_id: "$due", room_id: "", type: "", sender: "", content: {} };
        const base = this.base(trx, event);
        let repeat: { repeatAt: Date; payload?: Record<string, unknown> } | undefined;
        const ctx: DueContext = {
          ...base,
          itemId: item.id,
          payload: item.payload,
          dueAt: item.dueAt,
          lateMs: Math.max(0, this.now.getTime() - item.dueAt.getTime()),
          firedCount: item.firedCount,
          openDm: async (userId) => `!dm-${userId}`,
          repeatAt: (repeatAt, payload) => {
            repeat = { repeatAt, payload };
          },
        };
        await this.agent.onDue!(ctx);
        return repeat ?? "done";
      },
      () => undefined,
    );
    return dispatcher.fireDue(this.now);
  }

  async pendingItems(): Promise<number> {
    return this.schedules.countPending(this.definition.manifest.id);
  }
}
