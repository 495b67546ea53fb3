import type { MatrixEvent } from "../agents/types";

/** One room's waiting events in the inbound pipeline, handled a batch at a time from the head. */
export interface RoomQueue {
  events: MatrixEvent[];
  /** How many events at the head of `events` the running batch took. */
  inBatch: number;
  running?: Promise<void>;
}

/**
 * Queues an event at the end, or — for events read back from history (gap recovery) — at its place
 * in the room's timeline among the events still waiting (never before the running batch).
 */
export function insertInTimelineOrder(room: RoomQueue, event: MatrixEvent, inTimelineOrder: boolean): void {
  let at = room.events.length;
  const ts = event.origin_server_ts;
  if (inTimelineOrder && typeof ts === "number") {
    while (at > room.inBatch && (room.events[at - 1].origin_server_ts ?? 0) > ts) at--;
  }
  room.events.splice(at, 0, event);
}
