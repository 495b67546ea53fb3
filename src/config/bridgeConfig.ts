import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { ConfigError, ConfigErrors, BridgeError } from "../errors";
import { validateSection, type SectionSpec, type SectionValues } from "./fields";
import { deliverySpec } from "./deliveryConfig";
import { encryptionSpec } from "./encryptionConfig";
import { canonicalZone } from "../agents/kit/time/zone";

const LOCALPART = /^[a-z0-9._=\-/]+$/;
const LOCALPART_HINT = "Use lower-case letters, digits and . _ = - / only";

export const homeserverSpec = {
  url: {
    type: "url",
    required: true,
    doc: "Client-server API URL of the homeserver, e.g. http://127.0.0.1:8008",
  },
  domain: {
    type: "string",
    required: true,
    doc: "The homeserver's server name, the part after ':' in user ids",
  },
} satisfies SectionSpec;

export const appserviceSpec = {
  id: { type: "string", default: "matrix-agent-bridge", doc: "Registration id (unique per homeserver)" },
  bind_address: { type: "string", default: "127.0.0.1", doc: "Address the bridge's HTTP server listens on" },
  port: {
    type: "int",
    default: 9000,
    min: 0,
    max: 65535,
    doc: "Port the bridge listens on (0 = any free port)",
  },
  url: { type: "url", default: "http://127.0.0.1:9000", doc: "URL the homeserver uses to reach the bridge" },
  registration: {
    type: "string",
    default: "registration.yaml",
    doc: "Path of the registration file (holds the tokens)",
  },
  bot_localpart: {
    type: "string",
    default: "agentbridge",
    pattern: LOCALPART,
    patternHint: LOCALPART_HINT,
    doc: "Localpart of the bridge bot (registration sender_localpart)",
  },
  user_prefix: {
    type: "string",
    default: "_agent_",
    pattern: LOCALPART,
    patternHint: LOCALPART_HINT,
    doc: "Prefix of agent user localparts: @<prefix><agent id>:<domain>",
  },
} satisfies SectionSpec;

export const databaseSpec = {
  url: {
    type: "url",
    schemes: ["postgres", "postgresql"],
    doc: "postgres://user@host/db for PostgreSQL; leave empty for the embedded database",
  },
  data_dir: {
    type: "string",
    default: "data",
    doc: "Directory of the embedded database (when url is empty)",
  },
  engine: {
    type: "enum",
    values: ["auto", "sqlite", "pglite"],
    default: "auto",
    doc:
      "Embedded database: auto = PGlite where data_dir already holds one (pgdata/), else SQLite; " +
      "sqlite = <data_dir>/bridge.sqlite; pglite = <data_dir>/pgdata",
  },
  event_retention_days: {
    type: "int",
    default: 7,
    min: 1,
    doc: "How long handled event ids are kept for dedupe",
  },
  pool_max: {
    type: "int",
    default: 10,
    min: 3,
    max: 1000,
    doc: "PostgreSQL connections; each room being sent to holds one while sending (raise with outbox_concurrency)",
  },
} satisfies SectionSpec;

export const bridgeSpec = {
  admins: { type: "stringList", default: [], doc: "Matrix ids of bridge admins (global FAQ entries, etc.)" },
  invite_allow: {
    type: "stringList",
    default: [],
    doc: "Who may invite agents: globs of user ids (@*:example.org) or server names; empty = users of our homeserver",
  },
  space_name: { type: "string", default: "Agents", doc: "Name of the bridge space and of personal spaces" },
  command_rate_per_minute: { type: "int", default: 30, min: 1, doc: "Commands one user may send per minute" },
  default_timezone: {
    type: "string",
    default: "UTC",
    pattern: /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$|^UTC$/,
    patternHint: "Use an IANA timezone name such as Europe/Berlin",
    doc: "Timezone for users who have not set their own (IANA name, e.g. Europe/Berlin)",
  },
} satisfies SectionSpec;

export const loggingSpec = {
  level: {
    type: "enum",
    values: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
    default: "info",
    doc: "Log level",
  },
  format: {
    type: "enum",
    values: ["json", "pretty", "auto"],
    default: "auto",
    doc: "json, pretty, or auto (pretty on a terminal)",
  },
} satisfies SectionSpec;

export const metricsSpec = {
  enabled: { type: "bool", default: true, doc: "Serve Prometheus metrics on /metrics" },
  token: { type: "string", doc: "If set, /metrics requires 'Authorization: Bearer <token>'" },
} satisfies SectionSpec;

export const adminSpec = {
  token: {
    type: "string",
    pattern: /^[\x21-\x7e]{24,256}$/,
    patternHint:
      "Use 24 to 256 printable characters without spaces, e.g. the output of `openssl rand -hex 24`",
    doc: "Bearer token of the operator API (POST /admin/v1/command) the CLI's status / parked / retry / discard use while the bridge runs; unset = API off",
  },
} satisfies SectionSpec;

export interface BridgeConfig {
  homeserver: SectionValues<typeof homeserverSpec>;
  appservice: SectionValues<typeof appserviceSpec>;
  database: SectionValues<typeof databaseSpec>;
  bridge: SectionValues<typeof bridgeSpec>;
  logging: SectionValues<typeof loggingSpec>;
  metrics: SectionValues<typeof metricsSpec>;
  delivery: SectionValues<typeof deliverySpec>;
  encryption: SectionValues<typeof encryptionSpec>;
  admin: SectionValues<typeof adminSpec>;
  /** Raw per-agent sections; each agent validates its own (see agents/registry). */
  agents: Record<string, unknown>;
}

/** Every section with its spec, in the order the sample config lists them. */
export const SECTIONS = {
  homeserver: homeserverSpec,
  appservice: appserviceSpec,
  database: databaseSpec,
  bridge: bridgeSpec,
  logging: loggingSpec,
  metrics: metricsSpec,
  delivery: deliverySpec,
  encryption: encryptionSpec,
  admin: adminSpec,
} as const;

/** Validates a parsed config object. Environment variables MAB_<SECTION>_<KEY> win over the file. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ConfigError("(top level)", "the config file must be a YAML mapping of sections");
  }
  const input = (raw ?? {}) as Record<string, unknown>;
  const errors: ConfigError[] = [];
  for (const key of Object.keys(input)) {
    if (!(key in SECTIONS) && key !== "agents") {
      errors.push(
        new ConfigError(
          key,
          "unknown section",
          `Known sections: ${[...Object.keys(SECTIONS), "agents"].join(", ")}`,
        ),
      );
    }
  }
  const agents = input.agents ?? {};
  if (typeof agents !== "object" || Array.isArray(agents) || agents === null) {
    errors.push(new ConfigError("agents", "expected a section with one entry per agent id"));
  }
  // Every section is validated even when an earlier one failed, so all problems show at once.
  const section = <S extends SectionSpec>(name: keyof typeof SECTIONS & string, spec: S) => {
    try {
      return validateSection([name], spec, input[name], env);
    } catch (err) {
      errors.push(...ConfigErrors.flatten(err));
      return undefined as unknown as SectionValues<S>;
    }
  };
  const homeserver = section("homeserver", homeserverSpec);
  const appservice = section("appservice", appserviceSpec);
  const database = section("database", databaseSpec);
  let bridge = section("bridge", bridgeSpec);
  if (bridge) {
    try {
      bridge = withZone(bridge, env);
    } catch (err) {
      errors.push(...ConfigErrors.flatten(err));
    }
  }
  const logging = section("logging", loggingSpec);
  const metrics = section("metrics", metricsSpec);
  const delivery = section("delivery", deliverySpec);
  const encryption = section("encryption", encryptionSpec);
  const admin = section("admin", adminSpec);
  ConfigErrors.throwIfAny(errors);
  return {
    homeserver,
    appservice,
    database,
    bridge,
    logging,
    metrics,
    delivery,
    encryption,
    admin,
    agents: agents as Record<string, unknown>,
  };
}

/** bridge.default_timezone must be in the IANA database (a typo would break every time phrase). */
function withZone<T extends { default_timezone: string }>(bridge: T, env: NodeJS.ProcessEnv): T {
  const zone = canonicalZone(bridge.default_timezone);
  if (!zone) {
    const from = env.MAB_BRIDGE_DEFAULT_TIMEZONE !== undefined ? " (from MAB_BRIDGE_DEFAULT_TIMEZONE)" : "";
    throw new ConfigError(
      "bridge.default_timezone",
      `"${bridge.default_timezone}"${from} is not a timezone in the IANA database`,
      "Use an IANA timezone name such as Europe/Berlin, America/New_York or UTC",
    );
  }
  return { ...bridge, default_timezone: zone };
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  return parseConfig(readConfigFile(path), env);
}

/** The parsed YAML of a config file (not validated), with clear errors for unreadable files. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new BridgeError(
      "CONFIG_MISSING",
      `Cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      "Copy config/config.sample.yaml to config/config.yaml and edit it, or pass --config <path>",
    );
  }
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: path });
  } catch (err) {
    throw new BridgeError(
      "CONFIG_SYNTAX",
      `Config file ${path} is not valid YAML: ${(err as Error).message}`,
    );
  }
  return raw;
}

/** Full user id of an agent: @<prefix><id>:<domain>. */
export function agentUserId(config: BridgeConfig, agentId: string): string {
  return `@${config.appservice.user_prefix}${agentId}:${config.homeserver.domain}`;
}

export function botUserId(config: BridgeConfig): string {
  return `@${config.appservice.bot_localpart}:${config.homeserver.domain}`;
}
