import type { Knex } from "knex";
import type { KnownMessage, MatrixEvent } from "../agents/types";
import { Inbox } from "../store/inbox";
import { stripReplyFallback } from "./commandRouter";
import { permalink } from "../agents/kit/matrix";

/**
 * Matrix conversation habits around a command (threads, replies, edits), read from the event
 * and from what the bridge stored earlier. Everything here reads the database only: no request
 * to the homeserver while the event's transaction is open.
 */

/** Edits of a command count as corrections this long after it was sent. */
export const EDIT_WINDOW_MS = 10 * 60_000;

interface Relation {
  rel_type?: string;
  event_id?: string;
  is_falling_back?: boolean;
  "m.in_reply_to"?: { event_id?: string };
}

function relation(event: MatrixEvent): Relation | undefined {
  const rel = event.content["m.relates_to"];
  return rel && typeof rel === "object" ? (rel as Relation) : undefined;
}

/** The thread an event is in (its root), if any. */
export function threadOf(event: MatrixEvent): string | undefined {
  const rel = relation(event);
  return rel?.rel_type === "m.thread" && typeof rel.event_id === "string" ? rel.event_id : undefined;
}

/** The event a message really replies to; a thread's fallback reply is not one. */
export function replyTarget(event: MatrixEvent): string | undefined {
  const rel = relation(event);
  if (rel?.rel_type === "m.thread" && rel.is_falling_back !== false) return undefined;
  const id = rel?.["m.in_reply_to"]?.event_id;
  return typeof id === "string" ? id : undefined;
}

/** The original event an edit (m.replace) replaces. */
export function editedEventId(event: MatrixEvent): string | undefined {
  const rel = relation(event);
  return rel?.rel_type === "m.replace" && typeof rel.event_id === "string" ? rel.event_id : undefined;
}

/** An event the bridge received, from its inbox (kept for database.event_retention_days). */
export async function storedEvent(db: Knex.Transaction, eventId: string): Promise<MatrixEvent | null> {
  // Through the event's transaction: on the embedded database it holds the only connection.
  const row = await new Inbox(db as unknown as Knex).get(eventId);
  return row ? (row.payload as unknown as MatrixEvent) : null;
}

/** A stored message in `roomId` as agents see it (as first sent, without a reply fallback). */
export async function knownMessage(
  db: Knex.Transaction,
  roomId: string,
  eventId: string,
): Promise<KnownMessage | null> {
  const ev = await storedEvent(db, eventId);
  if (!ev || ev.room_id !== roomId || ev.type !== "m.room.message") return null;
  const body = typeof ev.content.body === "string" ? stripReplyFallback(ev.content.body) : "";
  return { eventId, roomId, sender: ev.sender, body, permalink: permalink(roomId, eventId) };
}

export type EditReading =
  | { kind: "none" }
  | { kind: "ignore" }
  | { kind: "too_late" }
  | { kind: "edit"; originalEventId: string; original: MatrixEvent; replyEventId: string | null };

/**
 * What an edit of a message means for `agentUserId`: a correction of a command it answered
 * (with the event id of its reply, to edit in place), too late for one, someone else's edit
 * (ignored), or not about a command of this agent at all (run as a new command).
 */
export async function readEdit(
  db: Knex.Transaction,
  agentUserId: string,
  event: MatrixEvent,
): Promise<EditReading> {
  const originalEventId = editedEventId(event);
  if (!originalEventId) return { kind: "none" };
  const original = await storedEvent(db, originalEventId);
  if (!original) return { kind: "too_late" }; // pruned long ago, or never seen
  if (original.sender !== event.sender || original.room_id !== event.room_id) return { kind: "ignore" };
  const reply = (await db("outbox")
    .where({ source_event_id: originalEventId, sender: agentUserId, event_type: "m.room.message" })
    .orderBy("seq")
    .first("sent_event_id")) as { sent_event_id: string | null } | undefined;
  if (!reply) return { kind: "none" };
  const age = (event.origin_server_ts ?? 0) - (original.origin_server_ts ?? 0);
  if (age > EDIT_WINDOW_MS) return { kind: "too_late" };
  return { kind: "edit", originalEventId, original, replyEventId: reply.sent_event_id };
}
