/**
 * Commands per agent in the last hour, for `status`: 60 one-minute buckets per agent, in
 * memory (a restart starts from zero, which `status` says by showing the uptime).
 */
export class CommandWindow {
  private readonly buckets = new Map<string, { minute: number; n: number }[]>();

  constructor(private readonly now: () => number = Date.now) {}

  record(agentId: string): void {
    const minute = Math.floor(this.now() / 60_000);
    const list = this.buckets.get(agentId) ?? [];
    const last = list.at(-1);
    if (last?.minute === minute) last.n++;
    else list.push({ minute, n: 1 });
    while (list.length && list[0].minute <= minute - 60) list.shift();
    this.buckets.set(agentId, list);
  }

  lastHour(agentId: string): number {
    const minute = Math.floor(this.now() / 60_000);
    return (this.buckets.get(agentId) ?? [])
      .filter((b) => b.minute > minute - 60)
      .reduce((a, b) => a + b.n, 0);
  }
}
