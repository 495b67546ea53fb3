import type { MatrixEvent } from "../agents/types";
import { validateEvents } from "../appservice/eventValidation";

export type DecryptOutcome = { event: MatrixEvent } | { failed: string };

/**
 * The event the pipeline handles in place of an m.room.encrypted one: its clear type and content
 * (checked like any event at the door), the rest (id, sender, room, time) from the encrypted event.
 */
export function clearEvent(event: MatrixEvent, clear: Record<string, unknown>): DecryptOutcome {
  const content = clear.content as Record<string, unknown> | undefined;
  if (typeof clear.type !== "string" || typeof content !== "object" || content === null)
    return { failed: "the decrypted payload is not an event" };
  if (clear.room_id !== undefined && clear.room_id !== event.room_id)
    return { failed: "the decrypted payload names another room" };
  // Relations travel in the clear, next to the ciphertext.
  const relates = event.content["m.relates_to"];
  const merged = relates && !content["m.relates_to"] ? { ...content, "m.relates_to": relates } : content;
  const { events, rejected } = validateEvents([{ ...event, type: clear.type, content: merged }]);
  if (rejected.length || events.length !== 1)
    return { failed: `invalid decrypted event (${rejected[0]?.reason})` };
  return { event: events[0] };
}
