import type { Recurrence } from "../kit";

export type ReminderStatus = "active" | "done" | "cancelled";

export interface Reminder {
  id: string;
  owner: string;
  roomId: string;
  message: string;
  status: ReminderStatus;
  mentionRoom: boolean;
  recurrence: Recurrence | null;
  /** The owner's timezone when the reminder was set (recurrences carry their own). */
  zone: string;
  /** The next regular firing (null once done). */
  nextDueAt: Date | null;
  itemId: string | null;
  snoozeItemId: string | null;
  snoozeDueAt: Date | null;
  firedCount: number;
  lastFiredAt: Date | null;
  createdAt: Date;
  /** Thread root the reminder was set in; it fires into that thread. */
  threadRoot: string | null;
  /** The message it was set in reply to (quoted and linked when it fires). */
  quote: { eventId: string; sender: string | null } | null;
  untilAck: boolean;
  nagItemId: string | null;
  nagCount: number;
  sourceEventId: string | null;
}

export interface NewReminder {
  owner: string;
  roomId: string;
  message: string;
  mentionRoom: boolean;
  recurrence?: Recurrence;
  zone: string;
  nextDueAt: Date;
  sourceEventId?: string;
  threadRoot?: string;
  quote?: { eventId: string; sender: string | null };
  untilAck?: boolean;
}

export interface Row {
  id: string;
  owner: string;
  room_id: string;
  message: string;
  status: ReminderStatus;
  mention_room: boolean;
  recurrence: Recurrence | string | null;
  zone: string;
  next_due_at: Date | string | null;
  item_id: string | null;
  snooze_item_id: string | null;
  snooze_due_at: Date | string | null;
  fired_count: number | string;
  last_fired_at: Date | string | null;
  created_at: Date | string;
  thread_root: string | null;
  quote_event_id: string | null;
  quote_sender: string | null;
  until_ack: boolean;
  nag_item_id: string | null;
  nag_count: number | string;
  source_event_id: string | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

export function toReminder(row: Row): Reminder {
  return {
    id: row.id,
    owner: row.owner,
    roomId: row.room_id,
    message: row.message,
    status: row.status,
    mentionRoom: row.mention_room,
    recurrence: typeof row.recurrence === "string" ? JSON.parse(row.recurrence) : row.recurrence,
    zone: row.zone,
    nextDueAt: date(row.next_due_at),
    itemId: row.item_id,
    snoozeItemId: row.snooze_item_id,
    snoozeDueAt: date(row.snooze_due_at),
    firedCount: Number(row.fired_count),
    lastFiredAt: date(row.last_fired_at),
    createdAt: new Date(row.created_at),
    threadRoot: row.thread_root,
    quote: row.quote_event_id ? { eventId: row.quote_event_id, sender: row.quote_sender } : null,
    untilAck: Boolean(row.until_ack),
    nagItemId: row.nag_item_id,
    nagCount: Number(row.nag_count ?? 0),
    sourceEventId: row.source_event_id,
  };
}

/** When a reminder fires next, snoozes included. */
export function nextFiring(r: Reminder): Date | null {
  const times = [r.nextDueAt, r.snoozeDueAt].filter((d): d is Date => d !== null);
  return times.length ? new Date(Math.min(...times.map((d) => d.getTime()))) : null;
}
