import { randomUUID } from "node:crypto";
import { openDatabase, IN_MEMORY, type Database } from "../../../src/store/database";
import { migrate } from "../../../src/store/migrations";
import { Outbox, type OutboxRow } from "../../../src/store/outbox";
import { ScheduleStore } from "../../../src/store/scheduleStore";
import { SchedulerDispatcher } from "../../../src/scheduler/dispatcher";
import { AgentHost, type AgentHostOptions } from "../../../src/appservice/agentHost";
import { parseConfig } from "../../../src/config/bridgeConfig";
import { resolveAgents, type ResolvedAgent } from "../../../src/agents/agentConfig";
import type { MatrixEvent, RoomFacts } from "../../../src/agents/types";
import { remindersAgent } from "../../../src/agents/reminders";
import { timerAgent } from "../../../src/agents/timer";
import type { AgentDefinition } from "../../../src/agents/types";
import { truncate } from "../../support/truncate";

/** Power levels per room and user, as a test sets them. */
export class FakeFacts implements RoomFacts {
  levels = new Map<string, number>();
  required = { room_mention: 50, state_default: 50, events_default: 0 };
  admins = new Set<string>();
  async powerLevel(roomId: string, userId: string): Promise<number> {
    return this.levels.get(`${roomId}|${userId}`) ?? 0;
  }
  async requiredLevel(_roomId: string, what: "room_mention" | "state_default" | "events_default") {
    return this.required[what];
  }
  isBridgeAdmin(userId: string): boolean {
    return this.admins.has(userId);
  }
  set(roomId: string, userId: string, level: number): void {
    this.levels.set(`${roomId}|${userId}`, level);
  }
}

/**
 * The real agent host, scheduler dispatcher, outbox and schedule store on an in-memory
 * database, with the homeserver left out: a test "says" things and reads the outbox.
 */
/** The fixed "now" every test starts from (Mon 2 Mar 2026, 12:00 UTC): no test reads the wall clock. */
export const T0 = new Date("2026-03-02T12:00:00Z");

export interface World {
  /** What the agents see as now; tests move it. */
  now: Date;
  db: Database;
  outbox: Outbox;
  schedules: ScheduleStore;
  facts: FakeFacts;
  host: AgentHost;
  agent: ResolvedAgent;
  /** Runs a command as the router would pass it; returns the agent's replies to it. */
  say(
    sender: string,
    roomId: string,
    args: string,
    opts?: { isDirect?: boolean; replyTo?: string; threadId?: string; edits?: string; agent?: string },
  ): Promise<OutboxRow[]>;
  react(sender: string, roomId: string, target: string, key?: string): Promise<string>;
  redact(sender: string, roomId: string, redacts: string): Promise<void>;
  upgrade(oldRoomId: string, newRoomId: string): Promise<void>;
  /** The event id of the last thing said (to reply to it or edit it). */
  lastEventId(): string;
  /** Fires everything due at `at` (with `advance`, the clock moves there first); returns the messages. */
  fire(at: Date, opts?: { advance?: boolean }): Promise<OutboxRow[]>;
  /** Marks every pending outbox row sent (as the worker would); returns outbox id → event id. */
  sendAll(): Promise<Map<string, string>>;
  /** Empties every table the agent and the host write (between tests). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Reminders (and with `withTimer`, the Timer agent too: `say(…, { agent: "timer" })`). */
export async function createWorld(
  agentConfig: Record<string, unknown> = {},
  opts: { withTimer?: boolean; commandFinished?: AgentHostOptions["commandFinished"] } = {},
): Promise<World> {
  const db = await openDatabase({ data_dir: IN_MEMORY });
  const definitions: AgentDefinition[] = opts.withTimer ? [remindersAgent, timerAgent] : [remindersAgent];
  await migrate(
    db,
    definitions.map((d) => ({ owner: d.manifest.id, migrations: d.manifest.migrations! })),
  );
  const config = parseConfig(
    { homeserver: { url: "http://127.0.0.1:1", domain: "example.org" }, agents: { reminders: agentConfig } },
    {},
  );
  const agents = resolveAgents(config, definitions, {});
  const outbox = new Outbox(db.knex);
  const schedules = new ScheduleStore(db.knex);
  const facts = new FakeFacts();
  const host = new AgentHost(agents, outbox, schedules, facts, {
    commandsPerMinute: 100_000,
    domain: "example.org",
    admins: [],
    defaultTimezone: "UTC",
    openDm: async () => "!dm:example.org",
    clock: () => world.now,
    commandFinished: opts.commandFinished,
  });
  await host.startAll(db.knex);
  const scheduler = new SchedulerDispatcher(
    db.knex,
    schedules,
    definitions.map((d) => d.manifest.id),
    (item, trx) => host.runDue(trx, item),
    () => undefined,
  );
  const agent = agents[0];
  const seen = new Set<string>();
  let lastEventId = "";
  const newRows = async (): Promise<OutboxRow[]> => {
    const ids = (await db.knex("outbox").orderBy("seq").select("id")) as { id: string }[];
    const fresh: OutboxRow[] = [];
    for (const { id } of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      fresh.push((await outbox.get(id))!);
    }
    return fresh;
  };
  const event = (
    sender: string,
    roomId: string,
    type: string,
    content: Record<string, unknown>,
  ): MatrixEvent => ({
    event_id: `$${randomUUID()}`,
    room_id: roomId,
    type,
    sender,
    content,
  });

  const world: World = {
    now: T0,
    db,
    outbox,
    schedules,
    facts,
    host,
    agent,
    async say(sender, roomId, args, opts = {}) {
      let content: Record<string, unknown> = { msgtype: "m.text", body: args };
      if (opts.replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: opts.replyTo } };
      if (opts.threadId) {
        content["m.relates_to"] = { rel_type: "m.thread", event_id: opts.threadId, is_falling_back: true };
      }
      if (opts.edits) {
        content = {
          msgtype: "m.text",
          body: `* ${args}`,
          "m.new_content": content,
          "m.relates_to": { rel_type: "m.replace", event_id: opts.edits },
        };
      }
      const ev = event(sender, roomId, "m.room.message", content);
      ev.origin_server_ts = world.now.getTime();
      // As the pipeline does: every event is in the inbox before it is handled.
      await db.knex("inbound_events").insert({
        event_id: ev.event_id,
        room_id: ev.room_id,
        event_type: ev.type,
        sender: ev.sender,
        payload: JSON.stringify(ev),
      });
      lastEventId = ev.event_id;
      const target = agents.find((a) => a.id === (opts.agent ?? "reminders"))!;
      await db.knex.transaction((trx) => host.runCommand(trx, target, ev, args, opts.isDirect ?? false));
      return newRows();
    },
    lastEventId: () => lastEventId,
    async react(sender, roomId, target, key = "👍") {
      const rel = { rel_type: "m.annotation", event_id: target, key };
      const ev = event(sender, roomId, "m.reaction", { "m.relates_to": rel });
      await db.knex.transaction((trx) =>
        host.runHook(trx, agent, ev, "onReaction", { targetEventId: target, key }),
      );
      return ev.event_id;
    },
    async redact(sender, roomId, redacts) {
      const ev = event(sender, roomId, "m.room.redaction", { redacts });
      await db.knex.transaction((trx) => host.runHook(trx, agent, ev, "onRedaction", { redacts }));
    },
    async upgrade(oldRoomId, newRoomId) {
      const ev = event("@admin:example.org", oldRoomId, "m.room.tombstone", { replacement_room: newRoomId });
      await db.knex.transaction((trx) =>
        host.runHook(trx, agent, ev, "onRoomUpgrade", { oldRoomId, newRoomId }),
      );
    },
    async fire(at, opts = {}) {
      if (opts.advance) world.now = at;
      await scheduler.fireDue(at);
      return newRows();
    },
    async sendAll() {
      const sent = new Map<string, string>();
      const pending = (await db.knex("outbox").where({ status: "pending" }).select("id")) as { id: string }[];
      for (const { id } of pending) {
        const eventId = `$sent-${id}`;
        await outbox.markSent(id, eventId);
        sent.set(id, eventId);
      }
      return sent;
    },
    async reset() {
      await truncate(db, [
        ...["reminders", "reminder_subscribers", "reminder_messages", "scheduled_items", "outbox"],
        ...["user_prefs", "inbound_events", ...(opts.withTimer ? ["timers"] : [])],
      ]);
      seen.clear();
      facts.levels.clear();
      world.now = T0;
    },
    async close() {
      await host.stopAll();
      await db.close();
    },
  };
  return world;
}

/** The plain body of an outbox row. */
export const body = (row: OutboxRow): string => String(row.content.body);
