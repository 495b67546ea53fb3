import { parseConfig } from "../../src/config/bridgeConfig";
import { envName } from "../../src/config/fields";
import { resolveAgents } from "../../src/agents/agentConfig";
import { AGENT_DEFINITIONS } from "../../src/agents/registry";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, ConfigErrors } from "../../src/errors";
import { unknownEnvWarnings } from "../../src/config/envCheck";
import { loadCheckedConfig } from "../../src/config/checkedConfig";

const minimal = { homeserver: { url: "http://127.0.0.1:8008", domain: "example.org" } };

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("fills defaults for every section", () => {
    const config = parseConfig(minimal, {});
    expect(config.appservice).toMatchObject({
      id: "matrix-agent-bridge",
      port: 9000,
      user_prefix: "_agent_",
    });
    expect(config.database.url).toBeUndefined();
    expect(config.database.data_dir).toBe("data");
    expect(config.bridge.invite_allow).toEqual([]);
  });

  it("names the missing key", () => {
    const err = errorOf(() => parseConfig({ homeserver: { url: "http://x" } }, {}));
    expect(err.key).toBe("homeserver.domain");
    expect(err.message).toContain("homeserver.domain");
    expect(err.hint).toContain("MAB_HOMESERVER_DOMAIN");
  });

  it.each([
    [{ appservice: { port: "abc" } }, "appservice.port", "whole number"],
    [{ appservice: { port: 70000 } }, "appservice.port", "at most 65535"],
    [{ database: { url: "mysql://x" } }, "database.url", "scheme"],
    [{ database: { engine: "mysql" } }, "database.engine", "must be one of auto, sqlite, pglite"],
    [{ homeserver: { url: "not a url", domain: "x" } }, "homeserver.url", "not a URL"],
    [{ logging: { level: "loud" } }, "logging.level", "must be one of"],
    [{ bridge: { admins: "@a:b" } }, "bridge.admins", "list of strings"],
    [{ bridge: { admnis: [] } }, "bridge.admnis", "unknown key"],
    [{ databse: {} }, "databse", "unknown section"],
    [{ appservice: { user_prefix: "Agent " } }, "appservice.user_prefix", "not valid"],
  ])("rejects %j naming %s", (patch, key, text) => {
    const err = errorOf(() => parseConfig({ ...minimal, ...patch }, {}));
    expect(err.key).toBe(key);
    expect(err.message).toContain(text);
  });

  it("lets environment variables override the file, with types", () => {
    const config = parseConfig(minimal, {
      MAB_DATABASE_URL: "postgres://u@h/db",
      MAB_APPSERVICE_PORT: "9100",
      MAB_METRICS_ENABLED: "false",
      MAB_BRIDGE_ADMINS: "@a:x, @b:x",
      MAB_HOMESERVER_DOMAIN: "other.org",
    });
    expect(config.database.url).toBe("postgres://u@h/db");
    expect(config.appservice.port).toBe(9100);
    expect(config.metrics.enabled).toBe(false);
    expect(config.bridge.admins).toEqual(["@a:x", "@b:x"]);
    expect(config.homeserver.domain).toBe("other.org");
  });

  it("validates the delivery section with defaults and overrides", () => {
    expect(parseConfig(minimal, {}).delivery).toMatchObject({
      outbox_concurrency: 8,
      device_id: "MATRIX_AGENT_BRIDGE",
    });
    expect(parseConfig(minimal, { MAB_DELIVERY_SHUTDOWN_GRACE_MS: "2500" }).delivery.shutdown_grace_ms).toBe(
      2500,
    );
    expect(errorOf(() => parseConfig({ ...minimal, delivery: { device_id: "bad id!" } }, {})).key).toBe(
      "delivery.device_id",
    );
  });

  it("names the env variable's key when its value is bad", () => {
    const err = errorOf(() => parseConfig(minimal, { MAB_APPSERVICE_PORT: "ninety" }));
    expect(err.key).toBe("appservice.port");
  });

  it("maps paths to env names", () => {
    expect(envName(["database", "url"])).toBe("MAB_DATABASE_URL");
    expect(envName(["agents", "echo", "display_name"])).toBe("MAB_AGENTS_ECHO_DISPLAY_NAME");
  });

  it("validates agent sections and rejects unknown agents", () => {
    const config = parseConfig(
      { ...minimal, agents: { echo: { enabled: true, display_name: "Parrot" } } },
      {},
    );
    const echo = resolveAgents(config, AGENT_DEFINITIONS, {}).find((a) => a.id === "echo")!;
    expect(echo.userId).toBe("@_agent_echo:example.org");
    expect(echo.displayName).toBe("Parrot");
    const bad = parseConfig({ ...minimal, agents: { ecko: {} } }, {});
    expect(errorOf(() => resolveAgents(bad, AGENT_DEFINITIONS, {})).key).toBe("agents.ecko");
    const wrongAvatar = parseConfig({ ...minimal, agents: { echo: { avatar_url: "http://x/y.png" } } }, {});
    expect(errorOf(() => resolveAgents(wrongAvatar, AGENT_DEFINITIONS, {})).key).toBe(
      "agents.echo.avatar_url",
    );
  });

  it("enables and disables agents from the environment", () => {
    const config = parseConfig(minimal, {});
    const ids = (env: NodeJS.ProcessEnv) => resolveAgents(config, AGENT_DEFINITIONS, env).map((a) => a.id);
    expect(ids({})).not.toContain("echo");
    expect(ids({ MAB_AGENTS_ECHO_ENABLED: "true" })).toContain("echo");
    expect(ids({ MAB_AGENTS_REMINDERS_ENABLED: "false" })).not.toContain("reminders");
  });
});

describe("config problems", () => {
  it("reports every problem at once, each with its key", () => {
    let caught: unknown;
    try {
      parseConfig(
        {
          homeserver: { url: "not a url" },
          appservice: { port: "x" },
          bridge: { admnis: [] },
          delivery: { retry_base_ms: 1 },
        },
        { MAB_LOGGING_LEVEL: "loud" },
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigErrors);
    const keys = (caught as ConfigErrors).errors.map((e) => e.key).sort();
    expect(keys).toEqual([
      "appservice.port",
      "bridge.admnis",
      "delivery.retry_base_ms",
      "homeserver.domain",
      "homeserver.url",
      "logging.level",
    ]);
    expect((caught as ConfigErrors).message).toMatch(/^6 problems in the config:/);
  });

  it("names the environment variable a bad value came from", () => {
    const err = errorOf(() => parseConfig(minimal, { MAB_APPSERVICE_PORT: "abc" }));
    expect(err.message).toBe(
      `Config key 'appservice.port': expected a whole number, got "abc" (from MAB_APPSERVICE_PORT)`,
    );
  });

  it("sets database.pool_max from the file and from MAB_DATABASE_POOL_MAX", () => {
    expect(parseConfig(minimal, {}).database.pool_max).toBe(10);
    expect(parseConfig({ ...minimal, database: { pool_max: 40 } }, {}).database.pool_max).toBe(40);
    expect(parseConfig(minimal, { MAB_DATABASE_POOL_MAX: "25" }).database.pool_max).toBe(25);
    expect(errorOf(() => parseConfig(minimal, { MAB_DATABASE_POOL_MAX: "1" })).message).toContain(
      "at least 3",
    );
  });

  it("warns about unknown MAB_ variables with the closest known one, and ignores test switches", () => {
    const warnings = unknownEnvWarnings(
      {
        MAB_APPSERVICE_PROT: "1",
        MAB_AGENTS_REMINDER_ENABLED: "false",
        MAB_COMPLETELY_DIFFERENT_THING: "x",
        MAB_TEST_PG_URL: "postgres://x",
        MAB_APPSERVICE_PORT: "9000",
        PATH: "/bin",
      },
      AGENT_DEFINITIONS,
    );
    expect(warnings).toEqual([
      "Environment variable MAB_AGENTS_REMINDER_ENABLED is not a config key and is ignored (did you mean MAB_AGENTS_REMINDERS_ENABLED?)",
      "Environment variable MAB_APPSERVICE_PROT is not a config key and is ignored (did you mean MAB_APPSERVICE_PORT?)",
      "Environment variable MAB_COMPLETELY_DIFFERENT_THING is not a config key and is ignored",
    ]);
  });

  it("reports bad agent sections together with bad bridge sections", () => {
    const dir = mkdtempSync(join(tmpdir(), "mab-config-"));
    const path = join(dir, "config.yaml");
    writeFileSync(
      path,
      "homeserver: { url: 'http://x' }\nagents:\n  reminders: { max_active_per_user: 0 }\n  ecko: {}\n",
    );
    let caught: unknown;
    try {
      loadCheckedConfig(path, {});
    } catch (err) {
      caught = err;
    }
    expect((caught as ConfigErrors).errors.map((e) => e.key).sort()).toEqual([
      "agents.ecko",
      "agents.reminders.max_active_per_user",
      "homeserver.domain",
    ]);
  });
});
