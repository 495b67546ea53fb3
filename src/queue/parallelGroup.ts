import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Which messages of a room may be sent at the same time. Replies to commands keep the room's strict
 * order (no group). A scheduled delivery's messages carry its item's id as their group: deliveries
 * due together (30 reminders at 09:00) have no order among themselves that anyone can rely on, so
 * the outbox may send up to `delivery.parallel_sends_per_room` of them at once, while the messages
 * of one delivery, and everything around the run, stay in order. (Figures: BENCHMARKS.md, firing.)
 */
const current = new AsyncLocalStorage<string>();

/** Runs `fn` so that every outbox row it writes belongs to `group`. */
export function inParallelGroup<T>(group: string, fn: () => Promise<T>): Promise<T> {
  return current.run(group, fn);
}

/** The group of the code running now, if any. */
export function currentParallelGroup(): string | undefined {
  return current.getStore();
}
