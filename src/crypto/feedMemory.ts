/**
 * What a device's machine last took in of the feeds' one-time-key counts and unused fallback key
 * types (from a feed, or from the answer to its own key upload). The homeserver repeats both in
 * every transaction; a push that repeats them and brings nothing else need not be stored
 * (feedIntake.ts), which spares the machine a store round trip per push (ADR 0007).
 */
export class FeedMemory {
  /**
   * The last one-time-key counts we know. The machine reads a missing count as 0 and uploads more
   * keys, so a feed without one gets these instead.
   */
  counts?: Record<string, number>;
  private fallback?: string;

  noteFallback(types: readonly string[]): void {
    this.fallback = fallbackKey(types);
  }

  /** True when these counts and fallback types are exactly what the machine last took in. */
  nothingNew(
    otkCounts: Record<string, number> | undefined,
    fallbackTypes: readonly string[] | undefined,
  ): boolean {
    if (otkCounts !== undefined && (this.counts === undefined || !sameCounts(otkCounts, this.counts)))
      return false;
    return fallbackTypes === undefined || fallbackKey(fallbackTypes) === this.fallback;
  }
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function fallbackKey(types: readonly string[]): string {
  return JSON.stringify([...types].sort());
}
