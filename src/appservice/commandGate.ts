import { RateLimiter } from "./rateLimiter";

/** Why a command was not run, and what (if anything) to tell its sender. */
export type GateRefusal = { outcome: "rate_limited" | "paused"; notice?: string };

/**
 * What a command passes before any agent code runs: the per-sender rate limit (a sender over it
 * is told once until they slow down, then ignored) and an admin's pause of the agent. Shortcuts
 * (`?key` in a group room) are refused silently: people may not mean them as commands.
 */
export class CommandGate {
  private readonly limiter: RateLimiter;
  private readonly warned = new Set<string>();

  constructor(
    commandsPerMinute: number,
    private readonly isPaused: (agentId: string) => boolean = () => false,
  ) {
    this.limiter = new RateLimiter(commandsPerMinute);
  }

  /** Senders the rate limiter tracks (a metric). */
  get trackedSenders(): number {
    return this.limiter.size;
  }

  /** undefined: go ahead. */
  check(agentId: string, sender: string, shortcut: boolean): GateRefusal | undefined {
    if (!this.limiter.take(sender)) {
      const first = !this.warned.has(sender);
      this.warned.add(sender);
      return {
        outcome: "rate_limited",
        notice:
          !shortcut && first
            ? "You are sending commands too fast; I'll skip a few. Try again in a minute."
            : undefined,
      };
    }
    this.warned.delete(sender);
    if (this.isPaused(agentId)) {
      return {
        outcome: "paused",
        notice: shortcut
          ? undefined
          : "I'm paused by the bridge's admins for now, so I'm not taking commands. Please try again later.",
      };
    }
    return undefined;
  }
}
