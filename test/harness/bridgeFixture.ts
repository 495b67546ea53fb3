import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type BridgeConfig } from "../../src/config/bridgeConfig";
import { buildRegistration, writeRegistration, type Registration } from "../../src/appservice/registration";
import { AgentBridge, type AgentBridgeOptions } from "../../src/appservice/agentBridge";
import { configureLogging, type LoggingOptions } from "../../src/logging/logger";
import { startSynapse, type SynapseHandle } from "./synapse";

/** A free TCP port on loopback (the OS picks; we release it right away). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface FixtureOptions {
  /** PostgreSQL URL; default: the embedded database in the fixture's directory. */
  databaseUrl?: string;
  /** Extra config sections (merged over the defaults). */
  config?: Record<string, unknown>;
  bridge?: AgentBridgeOptions;
  /** Log level of the bridge in tests; default "warn" (MAB_TEST_LOG_LEVEL overrides). */
  logLevel?: string;
  /** Port of a proxy the homeserver pushes transactions through (the registration's url). */
  pushViaPort?: number;
}

/**
 * A real Synapse with the bridge registered, and a way to start (and restart) the bridge
 * against it. Used by the end-to-end tests and by `npm run demo`.
 */
export class BridgeFixture {
  bridge?: AgentBridge;
  private constructor(
    readonly dir: string,
    readonly synapse: SynapseHandle,
    readonly config: BridgeConfig,
    readonly registration: Registration,
    private readonly opts: FixtureOptions,
  ) {}

  static async create(opts: FixtureOptions = {}): Promise<BridgeFixture> {
    const dir = mkdtempSync(join(tmpdir(), "mab-fixture-"));
    const port = await freeLoopbackPort();
    const registrationPath = join(dir, "registration.yaml");
    const raw = (homeserverUrl: string) => ({
      homeserver: { url: homeserverUrl, domain: "localhost" },
      appservice: {
        port,
        url: `http://127.0.0.1:${opts.pushViaPort ?? port}`,
        registration: registrationPath,
      },
      database: { data_dir: join(dir, "data"), ...(opts.databaseUrl ? { url: opts.databaseUrl } : {}) },
      logging: { level: process.env.MAB_TEST_LOG_LEVEL ?? opts.logLevel ?? "warn", format: "json" },
      ...opts.config,
      // The echo agent (off by default) makes end-to-end checks easy to count.
      agents: { echo: { enabled: true }, ...(opts.config?.agents as Record<string, unknown> | undefined) },
    });
    const registration = buildRegistration(parseConfig(raw("http://127.0.0.1:1"), {}));
    writeRegistration(registrationPath, registration);
    const synapse = await startSynapse({ registrationPaths: [registrationPath] });
    const config = parseConfig(raw(synapse.baseUrl), {});
    configureLogging({
      level: config.logging.level,
      format: config.logging.format as LoggingOptions["format"],
    });
    return new BridgeFixture(dir, synapse, config, registration, opts);
  }

  /** Starts a new bridge process-equivalent (fresh objects, same database and registration). */
  async startBridge(): Promise<AgentBridge> {
    const bridge = new AgentBridge(this.config, { registration: this.registration, ...this.opts.bridge });
    this.bridge = bridge;
    await bridge.start();
    return bridge;
  }

  async stopBridge(): Promise<void> {
    await this.bridge?.stop();
    this.bridge = undefined;
  }

  async close(): Promise<void> {
    await this.stopBridge().catch(() => undefined);
    await this.synapse.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
