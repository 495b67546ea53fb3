import type { OutboxRow, OutboxStatus } from "./outbox";

/** An outbox row as the database returns it (both drivers), and its mapping to OutboxRow. */
export interface Row {
  id: string;
  seq: string | number;
  room_id: string;
  sender: string;
  event_type: string;
  content: Record<string, unknown> | string;
  state_key: string | null;
  source_event_id: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date | string;
  last_error: string | null;
  sent_event_id: string | null;
  created_at: Date | string;
  sent_at: Date | string | null;
  parallel_group?: string | null;
}

export function toOutboxRow(row: Row): OutboxRow {
  const out: OutboxRow = {
    id: row.id,
    seq: Number(row.seq),
    roomId: row.room_id,
    sender: row.sender,
    type: row.event_type,
    content: typeof row.content === "string" ? JSON.parse(row.content) : row.content,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: new Date(row.next_attempt_at),
    lastError: row.last_error,
    sentEventId: row.sent_event_id,
    createdAt: new Date(row.created_at),
    sentAt: row.sent_at === null ? null : new Date(row.sent_at),
  };
  if (row.state_key !== null) out.stateKey = row.state_key;
  if (row.source_event_id !== null) out.sourceEventId = row.source_event_id;
  if (row.parallel_group) out.parallelGroup = row.parallel_group;
  return out;
}
