import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The bridge's Prometheus metrics, in one registry per bridge instance (tests run several
 * bridges in one process).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mab_" });
  const m = {
    registry,
    eventsReceived: new Counter({
      name: "mab_events_received_total",
      help: "Events received from the homeserver",
      registers: [registry],
    }),
    eventsDeduplicated: new Counter({
      name: "mab_events_deduplicated_total",
      help: "Received events that were already claimed (replays, duplicates)",
      registers: [registry],
    }),
    eventsHandled: new Counter({
      name: "mab_events_handled_total",
      help: "Events handled, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    eventHandleSeconds: new Histogram({
      name: "mab_event_handle_seconds",
      help: "Time to handle one event",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    sends: new Counter({
      name: "mab_outbox_sends_total",
      help: "Outbound sends, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "mab_outbox_pending",
      help: "Outbox rows waiting to be sent",
      registers: [registry],
    }),
    outboxOldestSeconds: new Gauge({
      name: "mab_outbox_oldest_pending_seconds",
      help: "Age of the oldest pending outbox row",
      registers: [registry],
    }),
  };
  return m;
}

export type BridgeMetrics = ReturnType<typeof createMetrics>;
