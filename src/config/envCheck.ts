import type { AgentDefinition } from "../agents/types";
import { COMMON_SPEC } from "../agents/agentConfig";
import { SECTIONS } from "./bridgeConfig";
import { envName } from "./fields";
// The file itself, not the kit index: the kit pulls in the time libraries, which config loading does not need.
import { editDistance } from "../agents/kit/editDistance";

/** Variables with the MAB_ prefix that are not config keys (test and fault-injection switches). */
const NOT_CONFIG = /^MAB_(TEST|FAULT|BENCH|SDK)_/;

/** Every MAB_… variable that sets a config key. */
export function knownEnvNames(definitions: readonly AgentDefinition[]): string[] {
  const names: string[] = [];
  for (const [section, spec] of Object.entries(SECTIONS)) {
    for (const key of Object.keys(spec)) names.push(envName([section, key]));
  }
  for (const { manifest } of definitions) {
    for (const key of Object.keys({ ...COMMON_SPEC, ...(manifest.configSpec ?? {}) })) {
      names.push(envName(["agents", manifest.id, key]));
    }
  }
  return names;
}

/**
 * One warning per MAB_… variable that sets nothing, naming the closest known variable: a
 * typo in an override (MAB_APPSERVICE_PROT) would otherwise be ignored without a trace.
 */
export function unknownEnvWarnings(
  env: NodeJS.ProcessEnv,
  definitions: readonly AgentDefinition[],
): string[] {
  const known = knownEnvNames(definitions);
  const set = new Set(known);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("MAB_") || set.has(name) || NOT_CONFIG.test(name)) continue;
    const near = closest(name, known);
    warnings.push(
      `Environment variable ${name} is not a config key and is ignored${near ? ` (did you mean ${near}?)` : ""}`,
    );
  }
  return warnings;
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate, bestDistance - 1);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
