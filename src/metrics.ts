import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { createOperatorMetrics } from "./admin/operatorMetrics";

/**
 * The bridge's Prometheus metrics, in one registry per bridge instance (tests run several
 * bridges in one process).
 *
 * Inbound: transactions by outcome; events received, deduplicated (replays and duplicates that
 * claimed nothing), handled by outcome (ok, failed, skipped = already handled by another process),
 * retried after transient failures; events claimed but not yet handled (gauge).
 * Outbound: sends by outcome (sent, retried, parked), retries by reason, send latency, pending
 * rows, parked rows and the age of the oldest pending row (gauges, read from the database when
 * scraped). Housekeeping: rows pruned.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mab_" });
  const m = {
    registry,
    transactions: new Counter({
      name: "mab_transactions_total",
      help: "Transactions pushed by the homeserver, by outcome (ok, failed = answered 5xx, draining = answered 503)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
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
    eventsRejected: new Counter({
      name: "mab_events_rejected_total",
      help: "Pushed events refused at the door (malformed ids, too deep or too large), by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    eventsHandled: new Counter({
      name: "mab_events_handled_total",
      help: "Events handled, by outcome (ok, failed, skipped = handled elsewhere already, ignored = no agent acts on it, recorded at claim)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    eventRetries: new Counter({
      name: "mab_event_retries_total",
      help: "Attempts at handling an event that failed for a transient reason and were retried",
      registers: [registry],
    }),
    eventHandleSeconds: new Histogram({
      name: "mab_event_handle_seconds",
      help: "Time to handle one event",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsUnhandled: new Gauge({
      name: "mab_events_unhandled",
      help: "Events claimed but not yet handled (in the database, all processes)",
      registers: [registry],
    }),
    sends: new Counter({
      name: "mab_outbox_sends_total",
      help: "Outbound send attempts, by outcome (sent, retried, parked)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    sendRetries: new Counter({
      name: "mab_outbox_retries_total",
      help: "Outbound sends that will be retried, by reason (rate_limited, server_error, network, unknown_device, other)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    sendSeconds: new Histogram({
      name: "mab_outbox_send_seconds",
      help: "Time of one successful send request",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    parked: new Counter({
      name: "mab_outbox_parked_total",
      help: "Outbound messages parked, by reason (rejected = the homeserver refused it for good, server_errors = gave up after delivery.max_server_errors failed attempts)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    cacheEntries: new Gauge({
      name: "mab_cache_entries",
      help: "Entries held by an in-memory cache (bounded by delivery.cache_rooms), by cache",
      labelNames: ["cache"],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "mab_outbox_pending",
      help: "Outbox rows waiting to be sent",
      registers: [registry],
    }),
    outboxFailed: new Gauge({
      name: "mab_outbox_parked",
      help: "Outbox rows parked for good (permanent failures), not yet pruned",
      registers: [registry],
    }),
    outboxOldestSeconds: new Gauge({
      name: "mab_outbox_oldest_pending_seconds",
      help: "Age of the oldest pending outbox row",
      registers: [registry],
    }),
    pruned: new Counter({
      name: "mab_pruned_rows_total",
      help: "Old rows deleted by the pruner, by kind (events, sent, failed)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    /** Per-agent, scheduler, parked-by-reason and build metrics (src/admin/operatorMetrics.ts). */
    operator: createOperatorMetrics(registry),
  };
  return m;
}

export type BridgeMetrics = ReturnType<typeof createMetrics>;
