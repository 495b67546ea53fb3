import { ConfigErrors, type ConfigError } from "../errors";
import { resolveAgents, type ResolvedAgent } from "../agents/agentConfig";
import { AGENT_DEFINITIONS } from "../agents/registry";
import type { AgentDefinition } from "../agents/types";
import { parseConfig, readConfigFile, type BridgeConfig } from "./bridgeConfig";
import { unknownEnvWarnings } from "./envCheck";

export interface CheckedConfig {
  config: BridgeConfig;
  agents: ResolvedAgent[];
  /** Things that do not stop the bridge but that the operator should see (unknown MAB_ variables). */
  warnings: string[];
}

/**
 * Loads a config file the way every CLI command does: the bridge sections and every agent's
 * section are validated, and all their problems are reported together in one ConfigErrors.
 */
export function loadCheckedConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  definitions: readonly AgentDefinition[] = AGENT_DEFINITIONS,
): CheckedConfig {
  const raw = readConfigFile(path);
  const errors: ConfigError[] = [];
  let config: BridgeConfig | undefined;
  try {
    config = parseConfig(raw, env);
  } catch (err) {
    errors.push(...ConfigErrors.flatten(err));
  }
  let agents: ResolvedAgent[] = [];
  const rawAgents = (raw as { agents?: unknown } | null)?.agents;
  // With a broken bridge section the agents are still checked, against placeholder names.
  const forAgents =
    config ??
    ({
      appservice: { user_prefix: "_agent_" },
      homeserver: { domain: "invalid" },
      agents: rawAgents && typeof rawAgents === "object" && !Array.isArray(rawAgents) ? rawAgents : {},
    } as unknown as BridgeConfig);
  try {
    agents = resolveAgents(forAgents, definitions, env);
  } catch (err) {
    errors.push(...ConfigErrors.flatten(err));
  }
  ConfigErrors.throwIfAny(errors);
  return { config: config!, agents, warnings: unknownEnvWarnings(env, definitions) };
}
