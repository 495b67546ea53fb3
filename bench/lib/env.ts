import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type BridgeConfig } from "../../src/config/bridgeConfig";
import { buildRegistration, writeRegistration, type Registration } from "../../src/appservice/registration";
import { startSynapse, type SynapseHandle } from "../../test/harness/synapse";
import { freeLoopbackPort } from "../../test/harness/bridgeFixture";

/**
 * One appservice registration known to the benchmark Synapse: a bridge (ours or the bare
 * library) under its own id, bot, user prefix and port, so several can run side by side
 * against one homeserver and be measured interleaved.
 */
export interface Slot {
  name: string;
  port: number;
  /** The config as plain data (sent to child processes, written as YAML for the CLI). */
  raw: Record<string, unknown>;
  config: BridgeConfig;
  registration: Registration;
  registrationPath: string;
  /** A private directory (embedded database, config files, logs). */
  dir: string;
}

export interface SlotSpec {
  name: string;
  /** Default: the embedded database in the slot's directory. */
  databaseUrl?: string;
  /** database.engine for the embedded database (default: the bridge's default, auto). */
  engine?: "sqlite" | "pglite";
  /** Default "_b<n>_": agent users are @<prefix><agent id>. */
  userPrefix?: string;
  /** Extra config sections merged over the defaults. */
  config?: Record<string, unknown>;
}

/** Bench defaults: logs quiet, no command rate limit in the way of the load. */
const BASE = {
  bridge: { command_rate_per_minute: 1_000_000 },
  logging: { level: process.env.MAB_BENCH_LOG_LEVEL ?? "warn", format: "json" },
};

/** A Synapse on loopback with one registration per slot. */
export class BenchEnv {
  private constructor(
    readonly dir: string,
    readonly synapse: SynapseHandle,
    private readonly slots: Map<string, Slot>,
  ) {}

  static async start(specs: SlotSpec[]): Promise<BenchEnv> {
    const dir = mkdtempSync(join(tmpdir(), "mab-bench-"));
    const prepared: {
      spec: SlotSpec;
      port: number;
      dir: string;
      path: string;
      raw: (hs: string) => object;
    }[] = [];
    for (const [i, spec] of specs.entries()) {
      const port = await freeLoopbackPort();
      const slotDir = join(dir, spec.name);
      const registrationPath = join(dir, `${spec.name}.registration.yaml`);
      const id = `bench-${spec.name}`;
      const raw = (homeserverUrl: string) => ({
        ...BASE,
        ...spec.config,
        homeserver: { url: homeserverUrl, domain: "localhost" },
        appservice: {
          id,
          port,
          url: `http://127.0.0.1:${port}`,
          registration: registrationPath,
          bot_localpart: `bench${spec.name.replace(/[^a-z0-9]/g, "")}`,
          user_prefix: spec.userPrefix ?? `_b${i}_`,
        },
        database: {
          data_dir: join(slotDir, "data"),
          ...(spec.databaseUrl ? { url: spec.databaseUrl } : {}),
          ...(spec.engine ? { engine: spec.engine } : {}),
        },
      });
      prepared.push({ spec, port, dir: slotDir, path: registrationPath, raw });
    }
    const registrations = new Map<string, Registration>();
    for (const p of prepared) {
      const registration = buildRegistration(parseConfig(p.raw("http://127.0.0.1:1"), {}));
      writeRegistration(p.path, registration);
      registrations.set(p.spec.name, registration);
    }
    let synapse: SynapseHandle;
    try {
      synapse = await startSynapse({ registrationPaths: prepared.map((p) => p.path) });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const slots = new Map<string, Slot>();
    for (const p of prepared) {
      const raw = p.raw(synapse.baseUrl) as Record<string, unknown>;
      slots.set(p.spec.name, {
        name: p.spec.name,
        port: p.port,
        raw,
        config: parseConfig(raw, {}),
        registration: registrations.get(p.spec.name)!,
        registrationPath: p.path,
        dir: p.dir,
      });
    }
    return new BenchEnv(dir, synapse, slots);
  }

  slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`No bench slot '${name}'`);
    return slot;
  }

  async close(): Promise<void> {
    await this.synapse.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
