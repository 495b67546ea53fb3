import type { Knex } from "knex";
import type { Dialect } from "../store/database";
import type { CryptoManager } from "../crypto/cryptoManager";
import { botUserId, type BridgeConfig } from "../config/bridgeConfig";
import type { DeliveryConfig } from "../config/deliveryConfig";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { BridgeMetrics } from "../metrics";
import type { OperatorTelemetry } from "../admin/operatorTelemetry";
import { setUpOperators, type Operators } from "../admin/operatorSetup";
import { Inbox } from "../store/inbox";
import { Outbox } from "../store/outbox";
import { ScheduleStore } from "../store/scheduleStore";
import { Pruner } from "../store/pruner";
import { RoomActivity } from "../store/roomActivity";
import { OutboxWorker } from "../queue/outboxWorker";
import { AgentDevices } from "./agentDevices";
import type { HomeserverClient } from "./homeserverClient";
import type { IntentProvider } from "./matrixIntents";
import { SpaceManager } from "./spaces";
import { DirectMessages } from "./directMessages";
import { MembershipCache } from "./membershipCache";
import { InviteAllowList } from "./inviteAllowList";
import { AgentHost } from "./agentHost";
import { EventDispatcher } from "./eventDispatcher";
import { EventPipeline } from "./eventPipeline";
import { EventTriage } from "./eventTriage";
import { BridgeIntents } from "./bridgeIntents";
import { RoomUpgrades } from "./roomUpgrade";
import { GapRecovery, DEFAULT_GAP_OPTIONS } from "./gapRecovery";
import { PowerLevelFacts } from "./roomFacts";

export interface WiringInput {
  config: BridgeConfig;
  delivery: DeliveryConfig;
  agents: readonly ResolvedAgent[];
  client: HomeserverClient;
  intents: IntentProvider;
  knex: Knex;
  dialect: Dialect;
  metrics: BridgeMetrics;
  telemetry: OperatorTelemetry;
  /** Called after every commit that may have queued work (sends, schedule changes). */
  afterCommit: () => void;
  /** The agents' encrypted devices, when encryption is on (read lazily: they start later). */
  crypto?: () => CryptoManager | undefined;
}

/** The running parts of a bridge, built in dependency order; nothing here talks to the homeserver yet. */
export interface BridgeParts {
  outbox: Outbox;
  inbox: Inbox;
  schedules: ScheduleStore;
  membership: MembershipCache;
  facts: PowerLevelFacts;
  host: AgentHost;
  spaces: SpaceManager;
  dms: DirectMessages;
  devices: AgentDevices;
  worker: OutboxWorker;
  pipeline: EventPipeline;
  activity: RoomActivity;
  gaps: GapRecovery;
  pruner: Pruner;
  operators: Operators;
}

/** Builds the component graph of a bridge (the composition root's wiring, kept apart from its start order). */
export async function wireBridge(input: WiringInput): Promise<BridgeParts> {
  const { config, delivery, agents, client, intents, knex, metrics } = input;
  const bot = botUserId(config);
  const outbox = new Outbox(knex);
  const inbox = new Inbox(knex);
  const schedules = new ScheduleStore(knex);
  const membership = new MembershipCache(client, delivery.cache_rooms);
  const ourUsers = [...agents.map((a) => a.userId), bot];
  const facts = new PowerLevelFacts(
    client,
    // Read room state as one of our users that is in the room.
    async (roomId) => {
      for (const userId of ourUsers) {
        if (await membership.isJoined(roomId, userId).catch(() => false)) return userId;
      }
      return undefined;
    },
    config.bridge.admins,
    delivery.cache_rooms,
  );
  const triage = new EventTriage(
    agents.map((a) => ({
      userId: a.userId,
      displayName: a.displayName,
      command: a.definition.manifest.command,
      shortcutPrefix: a.definition.manifest.shortcutPrefix,
    })),
    bot,
  );
  const dms = new DirectMessages(intents, knex, (roomId) => triage.noteRoom(roomId, true));
  await dms.loadAll();
  const operators = await setUpOperators({
    knex,
    agents,
    botUserId: bot,
    admins: config.bridge.admins,
    dialect: input.dialect,
    telemetry: input.telemetry,
    checkHomeserver: () =>
      client.request("GET", "/_matrix/client/versions", { timeoutMs: 5_000 }).then(() => "ok"),
  });
  const host = new AgentHost(agents, outbox, schedules, facts, {
    commandsPerMinute: config.bridge.command_rate_per_minute,
    domain: config.homeserver.domain,
    admins: config.bridge.admins,
    defaultTimezone: config.bridge.default_timezone,
    openDm: (agent, userId, db) => dms.open(agent, userId, db),
    commandFinished: (agentId, outcome, ms) => input.telemetry.commandFinished(agentId, outcome, ms),
    agentFailed: (agentId) => input.telemetry.agentFailed(agentId),
    isPaused: (agentId) => operators.pauses.isPaused(agentId),
  });
  const spaces = new SpaceManager(intents, knex, {
    domain: config.homeserver.domain,
    spaceName: config.bridge.space_name,
    aliasPrefix: config.appservice.user_prefix,
  });
  const bridgeIntents = new BridgeIntents(knex, intents, spaces, config.homeserver.domain);
  const dispatcher = new EventDispatcher({
    host,
    intents,
    membership,
    facts,
    dms,
    allowList: new InviteAllowList(config.bridge.invite_allow, config.homeserver.domain),
    upgrades: new RoomUpgrades(client, intents, membership, facts),
    noteRoom: (roomId, direct) => triage.noteRoom(roomId, direct),
    crypto: input.crypto,
    admin: { bot: operators.bot, knex },
  });
  const devices = new AgentDevices(knex, client, delivery.device_id);
  await devices.load();
  const shared = input.dialect === "postgres"; // several processes may share the database
  const worker = new OutboxWorker(
    outbox,
    client,
    {
      concurrency: shared ? postgresSendConcurrency(knex, delivery) : delivery.outbox_concurrency,
      backoff: { baseMs: delivery.retry_base_ms, maxMs: delivery.retry_max_ms },
      idlePollMs: 5_000,
      deviceFor: (userId) => devices.deviceFor(userId),
      forgetDevice: (userId) => devices.forget(userId),
      exclusiveRooms: shared,
      runIntent: bridgeIntents.run,
      maxServerErrors: delivery.max_server_errors,
      parallelSendsPerRoom: delivery.parallel_sends_per_room,
      encrypt: async (row) => {
        const crypto = input.crypto?.();
        return crypto?.active
          ? crypto.encryptForRoom(row.roomId, row.sender, row.type, row.content)
          : undefined;
      },
    },
    {
      sent: (_row, _eventId, ms) => {
        metrics.sends.inc({ outcome: "sent" });
        metrics.sendSeconds.observe(ms / 1000);
      },
      retried: (_row, _reason, _delay, kind) => {
        metrics.sends.inc({ outcome: "retried" });
        metrics.sendRetries.inc({ reason: kind });
      },
      parked: (_row, _reason, code) => {
        metrics.sends.inc({ outcome: "parked" });
        metrics.parked.inc({ reason: code });
      },
    },
  );
  const pipeline = new EventPipeline(
    knex,
    inbox,
    dispatcher,
    input.afterCommit,
    {
      received: (count, claimed, ignored) => {
        metrics.eventsReceived.inc(count);
        metrics.eventsDeduplicated.inc(count - claimed - ignored);
        if (ignored) metrics.eventsHandled.inc({ outcome: "ignored" }, ignored);
      },
      handled: (_event, outcome, ms) => {
        metrics.eventsHandled.inc({ outcome });
        metrics.eventHandleSeconds.observe(ms / 1000);
      },
      retried: () => metrics.eventRetries.inc(),
    },
    { maxQueued: delivery.max_queued_events, orderAcrossProcesses: shared },
    (event) => triage.isInert(event),
  );
  const activity = new RoomActivity(knex);
  const gaps = new GapRecovery(
    client,
    membership,
    ourUsers,
    activity,
    (events) => pipeline.receive(events, { recovered: true }),
    {
      ...DEFAULT_GAP_OPTIONS,
      activeWithinMs: delivery.gap_check_active_minutes * 60_000,
      intervalMs: delivery.gap_check_interval_seconds * 1000,
    },
  );
  const pruner = new Pruner(
    inbox,
    outbox,
    {
      eventRetentionDays: config.database.event_retention_days,
      sentRetentionDays: delivery.sent_retention_days,
      failedRetentionDays: delivery.failed_retention_days,
      intervalMs: delivery.prune_interval_minutes * 60_000,
    },
    (report) => {
      metrics.pruned.inc({ kind: "events" }, report.events);
      metrics.pruned.inc({ kind: "sent" }, report.sent);
      metrics.pruned.inc({ kind: "failed" }, report.failed);
    },
  );
  return {
    outbox,
    inbox,
    schedules,
    membership,
    facts,
    host,
    spaces,
    dms,
    devices,
    worker,
    pipeline,
    activity,
    gaps,
    pruner,
    operators,
  };
}

/**
 * On PostgreSQL each room being delivered holds a pooled connection for the duration of its send
 * (the room's advisory lock): keep two connections of the pool for everything else.
 */
function postgresSendConcurrency(knex: Knex, delivery: DeliveryConfig): number {
  const poolMax = Number((knex.client as { pool?: { max?: number } }).pool?.max ?? 10);
  return Math.max(1, Math.min(delivery.outbox_concurrency, poolMax - 2));
}
