/** A matrix.to link to an event, as clients show it. */
export function permalink(roomId: string, eventId: string): string {
  return `https://matrix.to/#/${encodeURIComponent(roomId)}/${encodeURIComponent(eventId)}`;
}

/** ✅ (and its look-alikes ✔️, ☑️): "done" as a reaction. */
export function isCheckMark(key: string): boolean {
  return /^(?:\u2705|\u2714\uFE0F?|\u2611\uFE0F?)$/u.test(key.trim());
}
