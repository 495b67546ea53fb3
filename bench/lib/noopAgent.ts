import type { AgentDefinition } from "../../src/agents/types";

/** Commands the no-op agent received in this process (the benchmarks check every event got through). */
export const noopCounter = { commands: 0 };

export const NOOP_AGENT_ID = "noop";

/**
 * An agent that does nothing: the inbound benchmarks measure the bridge's own cost (auth,
 * dedupe claim, per-room ordering, routing, the event's transaction) without any agent work.
 */
export const noopAgent: AgentDefinition = {
  manifest: {
    id: NOOP_AGENT_ID,
    displayName: "No-op",
    command: "noop",
    summary: "Does nothing (benchmarks).",
    help: "I do nothing; I exist to measure the bridge.",
    enabledByDefault: true,
  },
  create: () => ({
    manifest: noopAgent.manifest,
    async onCommand() {
      noopCounter.commands++;
    },
  }),
};
