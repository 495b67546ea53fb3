import { setFlagsFromString } from "node:v8";

/** V8 flags that size the heap's generations; when the operator set one, theirs win. */
const HEAP_SIZING_FLAGS =
  /--(?:max-|min-)?semi-space-size|--semi-space-growth-factor|--heap-growing-percent|--optimize-for-size/;

/**
 * Keeps the heap near its live size (ADR 0007). V8's young generation ("new space") otherwise
 * grows from 2 × 1 MB to 2 × 16 MB under allocation bursts (a push of 100 events, a migration,
 * the crypto start) and stays committed for the life of the process; and its old generation may
 * grow to several times the live heap between full collections while the mutator is busy.
 * Measured (BENCHMARKS.md): idle RSS of `start` 147 → 137 MB; RSS growth over 100k handled
 * events +40 → +15 MB. The price is more frequent collections, which the inbound CPU figures
 * include. It must run before the bridge's modules load (bin/matrix-agent-bridge.js calls it
 * first); both are runtime flags, and an operator's own heap sizing in NODE_OPTIONS or on the
 * command line is left alone.
 */
export function keepYoungGenerationSmall(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? "",
  set: (flags: string) => void = setFlagsFromString,
): boolean {
  if (HEAP_SIZING_FLAGS.test(`${execArgv.join(" ")} ${nodeOptions}`)) return false;
  set("--semi-space-growth-factor=1");
  set("--heap-growing-percent=25");
  return true;
}
