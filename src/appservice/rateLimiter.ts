/**
 * A per-key sliding-window limit (commands per user per minute). In memory on purpose:
 * it protects the bridge from floods, and forgetting it on restart is harmless.
 *
 * Cost per hit is O(limit), whatever the number of keys: a key is re-inserted on every hit, so the
 * Map iterates from the least recently active key, and each hit drops the keys at the front whose
 * window has passed (stopping at the first one still active). Memory is bounded by the keys active
 * within one window.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Records a hit; false when the key is over its limit (the hit is then not counted). */
  take(key: string, now = Date.now()): boolean {
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    this.hits.delete(key);
    this.dropExpired(now);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.hits.set(key, recent);
    return true;
  }

  /** Keys tracked (a metric; tests). */
  get size(): number {
    return this.hits.size;
  }

  /** Front of the Map = least recently hit; its last hit is its newest, so one look decides. */
  private dropExpired(now: number): void {
    for (const [key, times] of this.hits) {
      if (now - times[times.length - 1] < this.windowMs) return;
      this.hits.delete(key);
    }
  }
}
