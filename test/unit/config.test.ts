import { parseConfig } from "../../src/config/bridgeConfig";
import { envName } from "../../src/config/fields";
import { resolveAgents } from "../../src/agents/agentConfig";
import { AGENT_DEFINITIONS } from "../../src/agents/registry";
import { ConfigError } from "../../src/errors";

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
