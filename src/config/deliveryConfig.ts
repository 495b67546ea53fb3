import type { BridgeConfig } from "./bridgeConfig";
import type { SectionSpec, SectionValues } from "./fields";

/**
 * The `delivery` config section: exactly-once plumbing (outbound queue, shutdown, pruning).
 * Every key has a default; MAB_DELIVERY_<KEY> overrides it.
 */
export const deliverySpec = {
  outbox_concurrency: {
    type: "int",
    default: 8,
    min: 1,
    max: 256,
    doc: "Rooms the outbound queue delivers to at the same time (each room stays in order)",
  },
  parallel_sends_per_room: {
    type: "int",
    default: 8,
    min: 1,
    max: 64,
    doc: "Scheduled deliveries due together in one room sent at the same time (replies always go one at a time, in order)",
  },
  retry_base_ms: {
    type: "int",
    default: 500,
    min: 10,
    doc: "First backoff after a failed send (doubles per attempt, with jitter)",
  },
  retry_max_ms: { type: "int", default: 60_000, min: 100, doc: "Longest backoff between two send attempts" },
  shutdown_grace_ms: {
    type: "int",
    default: 10_000,
    min: 0,
    doc: "On SIGTERM, how long in-flight sends and events may take to finish; the rest waits for the next start",
  },
  prune_interval_minutes: { type: "int", default: 60, min: 1, doc: "How often old rows are pruned" },
  sent_retention_days: {
    type: "int",
    default: 30,
    min: 1,
    doc: "How long delivered outbound messages are kept (agents look up the event ids of their messages)",
  },
  failed_retention_days: {
    type: "int",
    default: 0,
    min: 0,
    doc: "How long parked (undeliverable) outbound messages are kept; 0 = until an operator retries or discards them",
  },
  max_server_errors: {
    type: "int",
    default: 12,
    min: 1,
    max: 1000,
    doc: "Failed attempts after which a message the homeserver keeps answering 5xx is parked (3 to 5 minutes with the default backoff); network errors and 429 never park",
  },
  cache_rooms: {
    type: "int",
    default: 5000,
    min: 10,
    doc: "Rooms whose members and power levels are kept in memory (least recently used beyond this are re-read when needed)",
  },
  max_queued_events: {
    type: "int",
    default: 5000,
    min: 10,
    doc: "Incoming events held in memory; beyond this they wait in the database",
  },
  gap_check_interval_seconds: {
    type: "int",
    default: 300,
    min: 0,
    doc: "How often rooms with recent agent activity are checked for events the homeserver never pushed (0 = only at start-up and after a suspected loss)",
  },
  gap_check_active_minutes: {
    type: "int",
    default: 60,
    min: 1,
    doc: "Rooms whose agents were active this recently are checked for lost events",
  },
  device_id: {
    type: "string",
    default: "MATRIX_AGENT_BRIDGE",
    pattern: /^[A-Za-z0-9_.=-]{1,64}$/,
    patternHint: "Use letters, digits and _ . = - (at most 64)",
    doc: "Device id the bridge's users send from (the homeserver deduplicates resends per device for 24 h)",
  },
} satisfies SectionSpec;

export type DeliveryConfig = SectionValues<typeof deliverySpec>;

/** The validated section (parseConfig validates it with the others). */
export function deliveryConfig(config: BridgeConfig): DeliveryConfig {
  return config.delivery;
}
