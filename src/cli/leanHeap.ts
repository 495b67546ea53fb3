import { setFlagsFromString } from "node:v8";

/** V8 flags that size the young generation; when the operator set one, theirs wins. */
const YOUNG_GENERATION_FLAGS = /--(?:max-|min-)?semi-space-size|--semi-space-growth-factor/;

/**
 * Keeps V8's young generation ("new space") at its initial size instead of letting it grow to
 * 2 × 16 MB under allocation bursts (a transaction of 100 events, a migration, the crypto start).
 * Once grown it stays committed for the life of the process: measured in the footprint bench, the
 * idle bridge on SQLite went from 147 to 137 MB and the scaling run's growth over 100k events lost
 * most of its first step (BENCHMARKS.md, "Memory"). The price is more frequent scavenges of a
 * small space, which the inbound CPU figures include. It must run before the bridge's modules
 * load (bin/matrix-agent-bridge.js calls it first); it only takes a runtime flag, so an explicit
 * `--max-semi-space-size` in NODE_OPTIONS or on the command line is left alone.
 */
export function keepYoungGenerationSmall(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? "",
  set: (flags: string) => void = setFlagsFromString,
): boolean {
  if (YOUNG_GENERATION_FLAGS.test(`${execArgv.join(" ")} ${nodeOptions}`)) return false;
  set("--semi-space-growth-factor=1");
  set("--heap-growing-percent=25");
  return true;
}
