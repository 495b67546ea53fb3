import { formatCompactDuration as formatDuration, inZone } from "../kit";
import type { Timer } from "./store";

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>~|]/g, "\\$&");
}

/** "**tea** (`k3f9x`)" or "timer `k3f9x`". */
export function label(timer: Pick<Timer, "id" | "name">): string {
  return timer.name ? `**${escapeMarkdown(timer.name)}** (\`${timer.id}\`)` : `timer \`${timer.id}\``;
}

/** "16:45" today, "tomorrow 09:00", or "Tue 4 Mar 16:45" further out, in the user's zone. */
export function formatClock(at: Date, now: Date, zone: string): string {
  const when = inZone(at, zone);
  const today = inZone(now, zone);
  if (!when.isValid || !today.isValid) return at.toISOString();
  if (when.hasSame(today, "day")) return when.toFormat("HH:mm:ss");
  if (when.hasSame(today.plus({ days: 1 }), "day")) return `tomorrow ${when.toFormat("HH:mm")}`;
  const year = when.hasSame(today, "year") ? "" : " yyyy";
  return when.toFormat(`ccc d LLL${year} HH:mm`);
}

export function ends(at: Date, now: Date, zone: string): string {
  return `ends ${formatClock(at, now, zone)} (${zone})`;
}

export { formatDuration };
