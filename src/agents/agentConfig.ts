import { ConfigError, ConfigErrors } from "../errors";
import { validateSection, type SectionSpec } from "../config/fields";
import { agentUserId, type BridgeConfig } from "../config/bridgeConfig";
import type { AgentDefinition } from "./types";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** A file under assets/, from the source tree (ts-jest) or the build (dist/src/agents). */
function bundledAsset(...parts: string[]): string | undefined {
  for (const up of [
    ["..", ".."],
    ["..", "..", ".."],
  ]) {
    const path = join(__dirname, ...up, "assets", ...parts);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Keys every agent section has, whatever the agent. */
export const COMMON_SPEC = {
  enabled: { type: "bool", doc: "Run this agent" },
  display_name: { type: "string", doc: "Display name of the agent user (its user id never changes)" },
  avatar_url: {
    type: "string",
    pattern: /^mxc:\/\/.+\/.+$/,
    patternHint: "Use an mxc:// URI",
    doc: "Avatar (mxc://)",
  },
} satisfies SectionSpec;

export interface ResolvedAgent {
  definition: AgentDefinition;
  id: string;
  userId: string;
  displayName: string;
  avatarUrl?: string;
  /** The bundled default avatar (a file path), when neither config nor manifest names an mxc:// URI. */
  bundledAvatar?: string;
  /** The agent's own validated config section (without the common keys). */
  config: Record<string, unknown>;
}

/**
 * Validates `agents.<id>` for every known agent and returns the enabled ones. An unknown
 * agent id in the config is an error, so a typo does not silently disable an agent.
 */
export function resolveAgents(
  config: BridgeConfig,
  definitions: readonly AgentDefinition[],
  env: NodeJS.ProcessEnv = process.env,
): ResolvedAgent[] {
  const known = new Map(definitions.map((d) => [d.manifest.id, d]));
  const errors: ConfigError[] = [];
  for (const id of Object.keys(config.agents)) {
    if (!known.has(id)) {
      errors.push(
        new ConfigError(`agents.${id}`, "unknown agent", `Known agents: ${[...known.keys()].join(", ")}`),
      );
    }
  }
  const resolved: ResolvedAgent[] = [];
  for (const definition of definitions) {
    const { id } = definition.manifest;
    const spec: SectionSpec = { ...COMMON_SPEC, ...(definition.manifest.configSpec ?? {}) };
    let section: Record<string, unknown>;
    try {
      section = validateSection(["agents", id], spec, config.agents[id], env) as Record<string, unknown>;
    } catch (err) {
      errors.push(...ConfigErrors.flatten(err));
      continue;
    }
    const enabled = (section.enabled as boolean | undefined) ?? definition.manifest.enabledByDefault;
    if (!enabled) continue;
    const { enabled: _e, display_name, avatar_url, ...own } = section;
    const avatarUrl = (avatar_url as string | undefined) ?? definition.manifest.avatarUrl;
    const file = definition.manifest.avatarFile;
    resolved.push({
      definition,
      id,
      userId: agentUserId(config, id),
      displayName: (display_name as string | undefined) ?? definition.manifest.displayName,
      avatarUrl,
      bundledAvatar: avatarUrl === undefined && file ? bundledAsset("avatars", file) : undefined,
      config: own,
    });
  }
  ConfigErrors.throwIfAny(errors);
  return resolved;
}
