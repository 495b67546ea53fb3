import type { Knex } from "knex";
import { Bridge, AppServiceRegistration } from "matrix-appservice-bridge";
import { moduleLogger, registerSecrets } from "../logging/logger";
import { BridgeError, HomeserverError, errorMessage } from "../errors";
import { botUserId, type BridgeConfig } from "../config/bridgeConfig";
import { openDatabase, type Database } from "../store/database";
import { migrate } from "../store/migrations";
import { Inbox } from "../store/inbox";
import { Outbox } from "../store/outbox";
import { RoomStore } from "../store/roomStore";
import { ScheduleStore } from "../store/scheduleStore";
import { SchedulerDispatcher } from "../scheduler/dispatcher";
import { AGENT_DEFINITIONS } from "../agents/registry";
import { resolveAgents, type ResolvedAgent } from "../agents/agentConfig";
import type { AgentDefinition, MatrixEvent } from "../agents/types";
import { OutboxWorker } from "../queue/outboxWorker";
import { createMetrics, type BridgeMetrics } from "../metrics";
import { deliveryConfig, type DeliveryConfig } from "../config/deliveryConfig";
import { Pruner } from "../store/pruner";
import { AgentDevices } from "./agentDevices";
import { HomeserverClient, MatrixHttpError } from "./homeserverClient";
import { HttpServer } from "./httpServer";
import { readRegistration, registrationProblems, type Registration } from "./registration";
import { intentsFromBridge, type IntentProvider } from "./matrixIntents";
import { syncAgentUsers } from "./agentUsers";
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
import { RoomActivity } from "../store/roomActivity";
import { reportEncryptionSupport } from "./encryptionSupport";
import { pingHomeserver } from "./ping";
import { routeBridgeLibraryLogs } from "../logging/bridgeLibraryLogs";
import { PowerLevelFacts } from "./roomFacts";

const log = moduleLogger("appservice/bridge");

export interface AgentBridgeOptions {
  /** Defaults to reading appservice.registration. */
  registration?: Registration;
  /** Defaults to the registry; tests pass their own agents. */
  definitions?: readonly AgentDefinition[];
  /** How long stop() waits for in-flight sends (overrides delivery.shutdown_grace_ms). */
  shutdownGraceMs?: number;
  /** Overrides of the delivery section (tests, benchmarks). */
  delivery?: Partial<DeliveryConfig>;
}

/**
 * The composition root: wires the store, the appservice HTTP API, the agents and the
 * outbound queue, and starts them in the order that makes each step safe.
 */
export class AgentBridge {
  readonly metrics: BridgeMetrics = createMetrics();
  readonly agents: ResolvedAgent[];
  private readonly registration: Registration;
  private db?: Database;
  private http?: HttpServer;
  private worker?: OutboxWorker;
  private pipeline?: EventPipeline;
  private pruner?: Pruner;
  private gaps?: GapRecovery;
  private activity?: RoomActivity;
  private devices?: AgentDevices;
  private readonly delivery: DeliveryConfig;
  private host?: AgentHost;
  private scheduler?: SchedulerDispatcher;
  private client: HomeserverClient;
  private intents?: IntentProvider;
  private bridgeLib?: Bridge;
  private ready = false;
  private pingsReceived = 0;
  spaces?: SpaceManager;
  dms?: DirectMessages;
  port = 0;
  spaceId?: string;

  constructor(
    readonly config: BridgeConfig,
    private readonly opts: AgentBridgeOptions = {},
  ) {
    this.agents = resolveAgents(config, opts.definitions ?? AGENT_DEFINITIONS);
    this.registration = opts.registration ?? readRegistration(config.appservice.registration);
    const problems = registrationProblems(
      config,
      this.registration,
      this.agents.map((a) => a.userId),
    );
    if (problems.length) {
      throw new BridgeError(
        "REGISTRATION_MISMATCH",
        `The registration does not match the config:\n  - ${problems.join("\n  - ")}`,
        "Regenerate it with `matrix-agent-bridge generate-registration` and restart the homeserver, or fix the config",
      );
    }
    registerSecrets(this.registration.as_token, this.registration.hs_token);
    this.delivery = { ...deliveryConfig(config), ...opts.delivery };
    this.client = new HomeserverClient(config.homeserver.url, this.registration.as_token);
  }

  get database(): Database {
    if (!this.db) throw new Error("Bridge not started");
    return this.db;
  }

  get homeserver(): HomeserverClient {
    return this.client;
  }

  async start(): Promise<void> {
    const started = Date.now();
    routeBridgeLibraryLogs();
    reportEncryptionSupport();
    this.db = await openDatabase(this.config.database);
    const { applied } = await migrate(
      this.db,
      this.agents
        .filter((a) => a.definition.manifest.migrations?.length)
        .map((a) => ({ owner: a.id, migrations: a.definition.manifest.migrations! })),
    );
    if (applied.length) log.info({ applied }, "Database migrated");
    const knex = this.db.knex;

    this.bridgeLib = await this.initBridgeLibrary();
    const intents = intentsFromBridge(this.bridgeLib);
    this.intents = intents;
    const outbox = new Outbox(knex);
    const inbox = new Inbox(knex);
    const schedules = new ScheduleStore(knex);
    const membership = new MembershipCache(this.client);
    const agentIds = new Set(this.agents.map((a) => a.userId));
    const facts = new PowerLevelFacts(
      this.client,
      // Read room state as one of our users that is in the room.
      async (roomId) => {
        for (const userId of [...agentIds, botUserId(this.config)]) {
          if (await membership.isJoined(roomId, userId).catch(() => false)) return userId;
        }
        return undefined;
      },
      this.config.bridge.admins,
    );
    const host = new AgentHost(this.agents, outbox, schedules, facts, {
      commandsPerMinute: this.config.bridge.command_rate_per_minute,
      domain: this.config.homeserver.domain,
      admins: this.config.bridge.admins,
      defaultTimezone: this.config.bridge.default_timezone,
      openDm: (agent, userId, db) => this.dms!.open(agent, userId, db),
    });
    this.host = host;
    this.spaces = new SpaceManager(intents, knex, {
      domain: this.config.homeserver.domain,
      spaceName: this.config.bridge.space_name,
      aliasPrefix: this.config.appservice.user_prefix,
    });
    const triage = new EventTriage(
      this.agents.map((a) => ({
        userId: a.userId,
        displayName: a.displayName,
        command: a.definition.manifest.command,
        shortcutPrefix: a.definition.manifest.shortcutPrefix,
      })),
      botUserId(this.config),
    );
    this.dms = new DirectMessages(intents, knex, (roomId) => triage.noteRoom(roomId, true));
    for (const roomId of await this.dms.allRoomIds()) triage.noteRoom(roomId, true);
    const bridgeIntents = new BridgeIntents(knex, intents, this.spaces, this.config.homeserver.domain);
    const dispatcher = new EventDispatcher({
      host,
      intents,
      membership,
      facts,
      dms: this.dms,
      allowList: new InviteAllowList(this.config.bridge.invite_allow, this.config.homeserver.domain),
      upgrades: new RoomUpgrades(this.client, intents, membership, facts),
      noteRoom: (roomId, direct) => triage.noteRoom(roomId, direct),
    });
    const devices = new AgentDevices(knex, this.client, this.delivery.device_id);
    this.devices = devices;
    await devices.load();
    const shared = this.db.dialect === "postgres"; // several processes may share the database
    this.worker = new OutboxWorker(
      outbox,
      this.client,
      {
        concurrency: shared ? postgresSendConcurrency(knex, this.delivery) : this.delivery.outbox_concurrency,
        backoff: { baseMs: this.delivery.retry_base_ms, maxMs: this.delivery.retry_max_ms },
        idlePollMs: 5_000,
        deviceFor: (userId) => devices.deviceFor(userId),
        forgetDevice: (userId) => devices.forget(userId),
        exclusiveRooms: shared,
        runIntent: bridgeIntents.run,
        parallelSendsPerRoom: this.delivery.parallel_sends_per_room,
      },
      {
        sent: (_row, _eventId, ms) => {
          this.metrics.sends.inc({ outcome: "sent" });
          this.metrics.sendSeconds.observe(ms / 1000);
        },
        retried: (_row, _reason, _delay, kind) => {
          this.metrics.sends.inc({ outcome: "retried" });
          this.metrics.sendRetries.inc({ reason: kind });
        },
        parked: () => this.metrics.sends.inc({ outcome: "parked" }),
      },
    );
    const worker = this.worker;
    const afterCommit = () => {
      worker.kick();
      this.scheduler?.kick();
    };
    this.pipeline = new EventPipeline(
      knex,
      inbox,
      dispatcher,
      afterCommit,
      {
        received: (count, claimed, ignored) => {
          this.metrics.eventsReceived.inc(count);
          this.metrics.eventsDeduplicated.inc(count - claimed - ignored);
          if (ignored) this.metrics.eventsHandled.inc({ outcome: "ignored" }, ignored);
        },
        handled: (_event, outcome, ms) => {
          this.metrics.eventsHandled.inc({ outcome });
          this.metrics.eventHandleSeconds.observe(ms / 1000);
        },
        retried: () => this.metrics.eventRetries.inc(),
      },
      { maxQueued: this.delivery.max_queued_events, orderAcrossProcesses: shared },
      (event) => triage.isInert(event),
    );
    const pipeline = this.pipeline;
    this.activity = new RoomActivity(knex);
    this.gaps = new GapRecovery(
      this.client,
      membership,
      [...agentIds, botUserId(this.config)],
      this.activity,
      (events) => pipeline.receive(events, { recovered: true }),
      {
        ...DEFAULT_GAP_OPTIONS,
        activeWithinMs: this.delivery.gap_check_active_minutes * 60_000,
        intervalMs: this.delivery.gap_check_interval_seconds * 1000,
      },
    );
    this.pruner = new Pruner(
      inbox,
      outbox,
      {
        eventRetentionDays: this.config.database.event_retention_days,
        sentRetentionDays: this.delivery.sent_retention_days,
        failedRetentionDays: this.delivery.failed_retention_days,
        intervalMs: this.delivery.prune_interval_minutes * 60_000,
      },
      (report) => {
        this.metrics.pruned.inc({ kind: "events" }, report.events);
        this.metrics.pruned.inc({ kind: "sent" }, report.sent);
        this.metrics.pruned.inc({ kind: "failed" }, report.failed);
      },
    );

    // The HTTP server must listen before the ping: the homeserver calls us back.
    this.http = this.createHttpServer();
    this.port = await this.http.listen(this.config.appservice.port, this.config.appservice.bind_address);
    log.info({ port: this.port, bind: this.config.appservice.bind_address }, "Appservice API listening");
    await pingHomeserver(this.client, this.config);

    const users = [botUserId(this.config), ...this.agents.map((a) => a.userId)];
    const syncUsers = () =>
      syncAgentUsers(
        intents,
        [
          { userId: botUserId(this.config), displayName: `${this.config.bridge.space_name} bridge` },
          ...this.agents.map((a) => ({
            userId: a.userId,
            displayName: a.displayName,
            avatarUrl: a.avatarUrl,
            bundledAvatar: a.bundledAvatar,
          })),
        ],
        knex,
      );
    // Users with a device from an earlier run are registered: their profile sync (a few requests
    // per user) can wait until after ready. Any new user is registered before anything runs.
    const registered = users.every((u) => devices.has(u));
    if (!registered) await syncUsers();
    await devices.ensureAll(users);
    await host.startAll(knex);
    this.scheduler = new SchedulerDispatcher(
      knex,
      schedules,
      host.scheduledAgentIds(),
      (item, trx) => host.runDue(trx, item),
      () => worker.kick(),
    );
    this.worker.start();
    this.scheduler.start();
    this.pruner.start();
    this.ready = true;
    // Events received since the HTTP server started were only claimed; handle them (and any left
    // over from a previous run) now that the agents are running.
    await this.pipeline.recover();
    // Events the homeserver may have lost while we were away are read back in the background.
    void this.gaps.recover("start-up").catch(() => undefined);
    this.gaps.start();
    // After ready (nothing above needs them): the profile sync of known users and the space
    // repair (state events the homeserver already has after the first start). start() still
    // resolves only once they are done.
    if (registered) await syncUsers();
    this.spaceId = await this.spaces.ensureBridgeSpace(this.agents);
    log.info(
      { ms: Date.now() - started, agents: this.agents.map((a) => a.userId), spaceId: this.spaceId },
      "Bridge ready",
    );
  }

  /**
   * Graceful stop: new transactions get 503 (the homeserver keeps them for the next start); the
   * transactions being recorded are answered; events and sends in flight get the grace period to
   * finish; everything else stays claimed or in the outbox for the next start.
   */
  async stop(): Promise<void> {
    const graceMs = this.opts.shutdownGraceMs ?? this.delivery.shutdown_grace_ms;
    const deadline = Date.now() + graceMs;
    this.ready = false;
    this.http?.startDraining();
    await this.http?.drained();
    this.gaps?.stop();
    await this.pipeline?.stop(Math.max(0, deadline - Date.now()));
    await this.pruner?.stop();
    await this.scheduler?.stop();
    await this.worker?.stop(Math.max(0, deadline - Date.now()));
    await this.host?.stopAll();
    await this.http?.close();
    // Clears the library's intent-culling timer and request factory.
    await this.bridgeLib?.close().catch(() => undefined);
    await this.db?.close();
    this.db = undefined;
    log.info("Bridge stopped");
  }

  /** Waits until every received event is handled and every queued message sent (tests, benchmarks). */
  async settled(timeoutMs = 30_000): Promise<void> {
    await this.pipeline?.idle();
    await this.worker?.drained(timeoutMs);
  }

  /** Opens (or reuses) the DM between an agent and a human; the agent sends the invite. */
  async openDm(agentId: string, userId: string): Promise<string> {
    const agent = this.host?.byId(agentId);
    if (!agent || !this.dms) throw new BridgeError("UNKNOWN_AGENT", `No running agent '${agentId}'`);
    return this.dms.open(agent, userId);
  }

  async roomCount(): Promise<number> {
    return new RoomStore(this.database.knex).count();
  }

  private async initBridgeLibrary(): Promise<Bridge> {
    const bridge = new Bridge({
      homeserverUrl: this.config.homeserver.url,
      domain: this.config.homeserver.domain,
      registration: AppServiceRegistration.fromObject(this.registration as never),
      disableStores: true,
      disableContext: true,
      suppressEcho: true,
      // Events reach us through our own HTTP server (see HttpServer); the library's
      // controller is never called for them.
      controller: { onEvent: () => undefined },
    });
    try {
      await bridge.initialise();
    } catch (err) {
      throw new HomeserverError(
        `Cannot talk to the homeserver at ${this.config.homeserver.url}: ${errorMessage(err)}`,
        "Check homeserver.url and that the homeserver is running",
        { cause: err },
      );
    }
    return bridge;
  }

  private createHttpServer(): HttpServer {
    return new HttpServer({
      hsToken: this.registration.hs_token,
      metricsEnabled: this.config.metrics.enabled,
      metricsToken: this.config.metrics.token,
      onTransactionAnswered: (outcome) => this.metrics.transactions.inc({ outcome }),
      onEventRejected: (rejection) => this.metrics.eventsRejected.inc({ reason: rejection.reason }),
      handlers: {
        onTransaction: async (txn) => {
          const pipeline = this.pipeline!;
          // A counter jump, a restart or an outage since the last push: read back what may be lost
          // before handling what came after it (handling waits; claims go on).
          if (this.ready && this.gaps?.suspectLoss(txn.txnId)) {
            log.warn({ txnId: txn.txnId }, "The homeserver may have lost events; reading back active rooms");
            pipeline.hold(this.gaps.recover("suspected-loss"));
          }
          if (txn.events.length === 0) return; // ephemeral data only: nothing to record
          await pipeline.receive(txn.events, {
            // Rooms with something for an agent (gap recovery reads these back).
            inClaim: (trx: Knex.Transaction, toHandle: MatrixEvent[]) =>
              this.activity!.touch(
                trx,
                toHandle.filter((e) => e.state_key === undefined).map((e) => e.room_id),
              ),
          });
        },
        onUserQuery: async (userId) => {
          const ours = userId === botUserId(this.config) || this.agents.some((a) => a.userId === userId);
          if (ours && this.intents) await this.intents.intent(userId).ensureRegistered();
          return ours;
        },
        onPing: () => {
          this.pingsReceived++;
        },
        readiness: async () => this.readiness(),
        metrics: async () => {
          await this.refreshGauges();
          return {
            contentType: this.metrics.registry.contentType,
            body: await this.metrics.registry.metrics(),
          };
        },
      },
    });
  }

  private async refreshGauges(): Promise<void> {
    if (!this.db) return;
    const outbox = new Outbox(this.db.knex);
    this.metrics.outboxDepth.set(await outbox.pendingCount());
    this.metrics.outboxFailed.set(await outbox.failedCount());
    this.metrics.outboxOldestSeconds.set((await outbox.oldestPendingAgeSeconds(new Date())) ?? 0);
    this.metrics.eventsUnhandled.set(await new Inbox(this.db.knex).unhandledCount());
  }

  /** Reads the recent history of rooms with agent activity and claims what was never pushed (tests, operators). */
  async recoverLostEvents(): Promise<number> {
    if (!this.gaps) throw new Error("Bridge not started");
    return this.gaps.recover("periodic");
  }

  /** Runs one pruning pass now (tests). */
  async pruneNow(): Promise<{ events: number; sent: number; failed: number }> {
    if (!this.pruner) throw new Error("Bridge not started");
    return this.pruner.runOnce();
  }

  private async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    // While starting, the answer is known without asking the database or the homeserver.
    if (!this.ready) return { ready: false, checks: { started: "starting" } };
    const checks: Record<string, string> = {};
    try {
      await this.database.knex.raw("select 1");
      checks.database = "ok";
    } catch (err) {
      checks.database = errorMessage(err);
    }
    try {
      await this.client.request("GET", "/_matrix/client/versions", { timeoutMs: 5_000 });
      checks.homeserver = "ok";
    } catch (err) {
      checks.homeserver = err instanceof MatrixHttpError ? err.message : errorMessage(err);
    }
    checks.started = this.ready ? "ok" : "starting";
    return { ready: Object.values(checks).every((v) => v === "ok"), checks };
  }
}

/**
 * On PostgreSQL each room being delivered holds a pooled connection for the duration of its send
 * (the room's advisory lock): keep two connections of the pool for everything else.
 */
function postgresSendConcurrency(knex: Knex, delivery: DeliveryConfig): number {
  const poolMax = Number((knex.client as { pool?: { max?: number } }).pool?.max ?? 10);
  return Math.max(1, Math.min(delivery.outbox_concurrency, poolMax - 2));
}
