import { moduleLogger, registerSecrets } from "../logging/logger";
import { BridgeError } from "../errors";
import { botUserId, type BridgeConfig } from "../config/bridgeConfig";
import type { Database } from "../store/database";
import { RoomStore } from "../store/roomStore";
import { SchedulerDispatcher } from "../scheduler/dispatcher";
import { AGENT_DEFINITIONS } from "../agents/registry";
import { resolveAgents, type ResolvedAgent } from "../agents/agentConfig";
import type { AgentDefinition } from "../agents/types";
import { createMetrics, type BridgeMetrics } from "../metrics";
import { deliveryConfig, type DeliveryConfig } from "../config/deliveryConfig";
import { HomeserverClient } from "./homeserverClient";
import type { HttpServer } from "./httpServer";
import { readRegistration, registrationProblems, type Registration } from "./registration";
import type { IntentProvider } from "./matrixIntents";
import { homeserverIntents } from "./homeserverIntents";
import { syncAgentUsers } from "./agentUsers";
import type { SpaceManager } from "./spaces";
import type { DirectMessages } from "./directMessages";
import { reportEncryptionSupport } from "./encryptionSupport";
import { createEncryption, startEncryption } from "../crypto/bridgeEncryption";
import type { CryptoManager } from "../crypto/cryptoManager";
import { pingHomeserver } from "./ping";
import { openBridgeStore, wantedProfiles } from "./bridgeStore";
import { wireBridge, type BridgeParts } from "./bridgeWiring";
import { createBridgeHttpServer } from "./bridgeHttp";
import { OperatorTelemetry } from "../admin/operatorTelemetry";

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
  readonly telemetry = new OperatorTelemetry(this.metrics.operator);
  readonly agents: ResolvedAgent[];
  private readonly registration: Registration;
  private db?: Database;
  private http?: HttpServer;
  private readonly delivery: DeliveryConfig;
  private parts?: BridgeParts;
  private crypto?: CryptoManager;
  private scheduler?: SchedulerDispatcher;
  private client: HomeserverClient;
  private intents?: IntentProvider;
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

  /** Whether agents read and write encrypted rooms now (encryption on and the feeds delivered). */
  get encryptionActive(): boolean {
    return this.crypto?.active === true;
  }

  async start(): Promise<void> {
    const started = Date.now();
    reportEncryptionSupport(this.config.encryption.enabled);
    this.db = await openBridgeStore(this.config, this.agents);
    const knex = this.db.knex;
    // Before the HTTP server: the feeds of transactions that arrive while the devices load are kept.
    this.crypto = await createEncryption(
      this.config,
      this.registration,
      knex,
      this.client,
      this.db.dialect === "postgres",
      this.agents.map((a) => a.userId),
    );

    const intents = homeserverIntents(this.client, botUserId(this.config));
    this.intents = intents;
    const parts = await wireBridge({
      config: this.config,
      delivery: this.delivery,
      agents: this.agents,
      client: this.client,
      intents,
      knex,
      dialect: this.db.dialect,
      metrics: this.metrics,
      telemetry: this.telemetry,
      afterCommit: () => {
        this.parts?.worker.kick();
        this.scheduler?.kick();
      },
      crypto: () => this.crypto,
    });
    this.parts = parts;
    const { host, worker, devices } = parts;
    this.spaces = parts.spaces;
    this.dms = parts.dms;

    // The HTTP server must listen before the ping: the homeserver calls us back.
    this.http = this.createHttpServer();
    this.port = await this.http.listen(this.config.appservice.port, this.config.appservice.bind_address);
    log.info({ port: this.port, bind: this.config.appservice.bind_address }, "Appservice API listening");
    await pingHomeserver(this.client, this.config);

    const users = [botUserId(this.config), ...this.agents.map((a) => a.userId)];
    const syncUsers = () => syncAgentUsers(intents, wantedProfiles(this.config, this.agents), knex);
    // Users with a device from an earlier run are registered: their profile sync (a few requests
    // per user) waits until after ready. A new user is registered before anything runs.
    const registered = users.every((u) => devices.has(u));
    if (!registered) await syncUsers();
    await devices.ensureAll(users);
    if (this.crypto) {
      const bot = botUserId(this.config);
      await startEncryption(this.crypto, this.config, this.registration, (u) => devices.deviceFor(u), bot);
    }
    await host.startAll(knex);
    this.scheduler = new SchedulerDispatcher(
      knex,
      parts.schedules,
      host.scheduledAgentIds(),
      (item, trx) => {
        this.telemetry.firing(item, new Date());
        return host.runDue(trx, item);
      },
      () => worker.kick(),
    );
    worker.start();
    parts.pruner.start();
    this.ready = true;
    // Events received since the HTTP server started were only claimed; handle them (and any left
    // over from a previous run) now that the agents are running.
    await parts.pipeline.recover();
    // Events the homeserver may have lost while we were away are read back in the background.
    void parts.gaps.recover("start-up").catch(() => undefined);
    parts.gaps.start();
    // After ready (nothing above needs them): the profile sync of known users and the space
    // repair (state events the homeserver already has after the first start). start() still
    // resolves only once they are done.
    if (registered) await syncUsers();
    this.spaceId = await this.spaces.ensureBridgeSpace(this.agents);
    // The scheduler last: what fell due while the bridge was down is late already, and its first
    // burst should not compete with the start for the one embedded connection. (Not after a stop
    // that came during the start.)
    if (this.ready) this.scheduler.start();
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
    // First, so a burst being fired ends after the item in hand (the rest stays due).
    const schedulerStopped = this.scheduler?.stop();
    this.http?.startDraining();
    await this.http?.drained();
    this.parts?.gaps.stop();
    await this.parts?.pipeline.stop(Math.max(0, deadline - Date.now()));
    await this.parts?.pruner.stop();
    await schedulerStopped;
    await this.parts?.worker.stop(Math.max(0, deadline - Date.now()));
    await this.parts?.host.stopAll();
    await this.crypto?.stop();
    await this.http?.close();
    await this.db?.close();
    this.db = undefined;
    log.info("Bridge stopped");
  }

  /** Waits until every received event is handled and every queued message sent (tests, benchmarks). */
  async settled(timeoutMs = 30_000): Promise<void> {
    await this.parts?.pipeline.idle();
    await this.parts?.worker.drained(timeoutMs);
  }

  /** Opens (or reuses) the DM between an agent and a human; the agent sends the invite. */
  async openDm(agentId: string, userId: string): Promise<string> {
    const agent = this.parts?.host.byId(agentId);
    if (!agent || !this.dms) throw new BridgeError("UNKNOWN_AGENT", `No running agent '${agentId}'`);
    return this.dms.open(agent, userId);
  }

  async roomCount(): Promise<number> {
    return new RoomStore(this.database.knex).count();
  }

  private createHttpServer(): HttpServer {
    return createBridgeHttpServer({
      hsToken: this.registration.hs_token,
      metricsEnabled: this.config.metrics.enabled,
      metricsToken: this.config.metrics.token,
      metrics: this.metrics,
      telemetry: this.telemetry,
      adminToken: this.config.admin.token,
      admin: () => (this.ready ? this.parts?.operators.service : undefined),
      client: this.client,
      knex: () => this.db?.knex,
      pipeline: () => this.parts?.pipeline,
      gaps: () => this.parts?.gaps,
      activity: () => this.parts?.activity,
      crypto: () => this.crypto,
      isReady: () => this.ready,
      onUserQuery: async (userId) => {
        const ours = userId === botUserId(this.config) || this.agents.some((a) => a.userId === userId);
        if (ours && this.intents) await this.intents.intent(userId).ensureRegistered();
        return ours;
      },
      onPing: () => {
        this.pingsReceived++;
      },
      cacheSizes: (): Record<string, number> =>
        this.parts
          ? {
              membership: this.parts.membership.size,
              power_levels: this.parts.facts.size,
              rate_limiter: this.parts.host.rateLimitedSenders,
            }
          : {},
    });
  }

  /** Reads the recent history of rooms with agent activity and claims what was never pushed (tests, operators). */
  async recoverLostEvents(): Promise<number> {
    if (!this.parts) throw new Error("Bridge not started");
    return this.parts.gaps.recover("periodic");
  }

  /** Runs one pruning pass now (tests). */
  async pruneNow(): Promise<{ events: number; sent: number; failed: number }> {
    if (!this.parts) throw new Error("Bridge not started");
    return this.parts.pruner.runOnce();
  }
}
