import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import yaml from "js-yaml";
import { parseConfig } from "../../src/config/bridgeConfig";

/**
 * docker-compose.example.yml cannot be run here (no Docker engine), so we check what would
 * break it silently: every file it references exists, the services are wired to each other
 * consistently (server name, URLs, ports, the shared registration), and the bridge runs the
 * CLI's `start` with a config the bridge accepts.
 */
const root = join(__dirname, "..", "..");
const composePath = join(root, "docker-compose.example.yml");

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string> | string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  expose?: string[];
  healthcheck?: { test: string | string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = yaml.load(readFileSync(composePath, "utf8")) as Compose;
const services = compose.services;

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}

/** Short volume syntax: "<source>:<target>[:ro]"; a bind mount's source starts with . or /. */
function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((spec) => {
    const [source, target, mode] = spec.split(":");
    return {
      source,
      target,
      readOnly: mode === "ro",
      bind: source.startsWith(".") || source.startsWith("/"),
    };
  });
}

function env(service: Service): Record<string, string> {
  const e = service.environment ?? {};
  if (!Array.isArray(e)) return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(e.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

/** The host file behind a path inside a container, through that service's bind mounts. */
function hostFile(service: Service, containerPath: string): string | undefined {
  for (const m of mounts(service)) {
    if (!m.bind) continue;
    if (containerPath === m.target) return join(root, m.source);
    if (containerPath.startsWith(`${m.target}/`))
      return join(root, m.source, containerPath.slice(m.target.length + 1));
  }
  return undefined;
}

/** The named volume (and the path inside it) behind a path in a container. */
function volumeOf(service: Service, containerPath: string): { volume: string; rest: string } | undefined {
  for (const m of mounts(service)) {
    if (m.bind) continue;
    if (containerPath === m.target || containerPath.startsWith(`${m.target}/`)) {
      return { volume: m.source, rest: posix.relative(m.target, containerPath) };
    }
  }
  return undefined;
}

const bridge = services.bridge;
const synapse = services.synapse;
const bridgeWorkdir = "/app"; // WORKDIR of the Dockerfile's final stage

const bridgeArgs = Array.isArray(bridge.command) ? bridge.command : String(bridge.command).split(/\s+/);
const configInContainer = posix.resolve(bridgeWorkdir, bridgeArgs[bridgeArgs.indexOf("--config") + 1]);
const bridgeConfigFile = hostFile(bridge, configInContainer);
const synapseConfigFile = hostFile(synapse, env(synapse).SYNAPSE_CONFIG_PATH);

describe("docker-compose.example.yml", () => {
  it("has Synapse, PostgreSQL and the bridge", () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["postgres", "synapse", "bridge"]));
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(synapse.image).toMatch(/^matrixdotorg\/synapse:/);
  });

  it("references only files and directories that exist in the repository", () => {
    let checked = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const m of mounts(service).filter((m) => m.bind)) {
        expect([name, m.source, existsSync(join(root, m.source))]).toEqual([name, m.source, true]);
        checked++;
      }
      if (service.build !== undefined) {
        const build = typeof service.build === "string" ? { context: service.build } : service.build;
        const context = join(root, build.context);
        expect(statSync(context).isDirectory()).toBe(true);
        expect(existsSync(join(context, build.dockerfile ?? "Dockerfile"))).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it("declares every named volume and depends only on services it defines", () => {
    for (const service of Object.values(services)) {
      for (const m of mounts(service).filter((m) => !m.bind))
        expect(Object.keys(compose.volumes ?? {})).toContain(m.source);
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(services)).toContain(dep);
    }
  });

  it("runs the bridge through the CLI's start with a config file it mounts", () => {
    expect(bridge.build).toBeDefined();
    expect(bridgeArgs[0]).toBe("start");
    expect(bridgeArgs).toContain("--config");
    expect(bridgeConfigFile).toBeDefined();
    expect(existsSync(bridgeConfigFile!)).toBe(true);
  });

  it("gives the bridge a config the bridge accepts, on the compose network's PostgreSQL", () => {
    const raw = yaml.load(readFileSync(bridgeConfigFile!, "utf8"));
    const config = parseConfig(raw, env(bridge));
    expect(config.database.url).toMatch(/^postgres:\/\/agentbridge:[^@]+@postgres:5432\/agentbridge$/);
    expect(config.appservice.bind_address).toBe("0.0.0.0");
    expect(config.appservice.url).toBe(`http://bridge:${config.appservice.port}`);
    expect(bridge.expose ?? []).toContain(String(config.appservice.port));
  });

  it("wires Synapse and the bridge to each other", () => {
    const bridgeConfig = parseConfig(yaml.load(readFileSync(bridgeConfigFile!, "utf8")), env(bridge));
    expect(synapseConfigFile).toBeDefined();
    const hs = yaml.load(readFileSync(synapseConfigFile!, "utf8")) as {
      server_name: string;
      listeners: { port: number }[];
      database: { name: string; args: { host: string; user: string; password: string; database: string } };
      app_service_config_files: string[];
      signing_key_path: string;
    };
    // Same server name everywhere.
    expect(hs.server_name).toBe(bridgeConfig.homeserver.domain);
    expect(
      services["synapse-init"] ? env(services["synapse-init"]).SYNAPSE_SERVER_NAME : hs.server_name,
    ).toBe(hs.server_name);
    // The bridge reaches Synapse by service name on a port Synapse listens on.
    const hsUrl = new URL(bridgeConfig.homeserver.url);
    expect(hsUrl.hostname).toBe("synapse");
    expect(hs.listeners.map((l) => String(l.port))).toContain(hsUrl.port);
    // Synapse's database is the postgres service, with the credentials the compose file sets.
    const pgEnv = env(services.postgres);
    expect(hs.database.name).toBe("psycopg2");
    expect(hs.database.args).toMatchObject({
      host: "postgres",
      user: pgEnv.POSTGRES_USER,
      password: pgEnv.POSTGRES_PASSWORD,
      database: pgEnv.POSTGRES_DB,
    });
    expect(bridgeConfig.database.url).toContain(`:${pgEnv.AGENTBRIDGE_DB_PASSWORD}@`);
    // The registration the bridge writes is the file Synapse loads: same named volume, same file.
    const written = volumeOf(bridge, posix.resolve(bridgeWorkdir, bridgeConfig.appservice.registration));
    expect(written).toBeDefined();
    expect(hs.app_service_config_files).toHaveLength(1);
    const loaded = volumeOf(synapse, hs.app_service_config_files[0]);
    expect(loaded).toEqual(written);
    // Synapse's signing key and data live in its volume.
    expect(volumeOf(synapse, hs.signing_key_path)).toBeDefined();
  });

  it("runs Synapse as the bridge image's user, so it can read the 0600 registration", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^USER node$/m); // uid 1000 in the official node images
    expect(env(synapse).UID).toBe("1000");
    if (services["synapse-init"]) expect(env(services["synapse-init"]).UID).toBe("1000");
  });

  it("is documented", () => {
    const doc = readFileSync(join(root, "docs", "deployment.md"), "utf8");
    expect(doc).toContain("docker-compose.example.yml");
    expect(doc).toContain("generate-registration");
    expect(existsSync(dirname(composePath))).toBe(true);
  });
});
