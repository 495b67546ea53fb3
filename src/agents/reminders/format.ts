import { humanizeMs, relative } from "./duration";
import { describeRecurrence, type Recurrence } from "./recurrence";
import { inZone } from "./time";
import { nextFiring, type Reminder } from "./store";

/** "Sun 29 Mar 2026, 09:00" in `zone` (seconds only when they are not :00). */
export function formatInstant(at: Date, zone: string): string {
  const dt = inZone(at, zone);
  return dt.toFormat(dt.second ? "ccc d LLL yyyy, HH:mm:ss" : "ccc d LLL yyyy, HH:mm", { locale: "en-GB" });
}

/** "**Sun 29 Mar 2026, 09:00** (Europe/Berlin), in 10 hours" */
export function formatWhen(at: Date, zone: string, now: Date): string {
  return `**${formatInstant(at, zone)}** (${zone}), ${relative(at, now)}`;
}

/** Quoted Markdown: every line of the user's text after "> ". */
export function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export interface ConfirmationInput {
  id: string;
  dueAt: Date;
  zone: string;
  now: Date;
  message: string;
  recurrence?: Recurrence | null;
  mentionRoom: boolean;
}

export function confirmationText(c: ConfirmationInput): string {
  const who = c.mentionRoom ? "I'll notify **the whole room**" : "I'll remind you";
  const lines = [`⏰ ${who} ${formatWhen(c.dueAt, c.zone, c.now)}:`, quote(c.message)];
  if (c.recurrence) lines.push(`Repeats ${describeRecurrence(c.recurrence)}.`);
  lines.push(
    `Id \`${c.id}\` · react 👍 to be reminded too · reply \`cancel\` to cancel (or \`cancel ${c.id}\`).`,
  );
  return lines.join("\n");
}

export interface DeliveryInput {
  reminder: Reminder;
  subscribers: string[];
  /** Whether this firing pings @room (the owner may still use it). */
  mentionRoom: boolean;
  /** Set when the owner asked for @room but may no longer use it. */
  roomMentionDropped: boolean;
  lateMs: number;
  lateNoteMs: number;
  /** Occurrences of a recurring reminder that fell while the bridge was down, besides this one. */
  missed: number;
  next: Date | null;
  zone: string;
  snooze: boolean;
}

/** The reminder itself: mentions first, so notifications read "⏰ @alice:…: stretch". */
export function deliveryText(d: DeliveryInput): string {
  const r = d.reminder;
  const people = [r.owner, ...d.subscribers.filter((u) => u !== r.owner)];
  const head = d.mentionRoom ? `⏰ @room: ${r.message}` : `⏰ ${people.join(", ")}: ${r.message}`;
  const lines = [head];
  if (d.mentionRoom) lines.push(`Set by ${r.owner}.`);
  if (d.roomMentionDropped)
    lines.push(`(Not notifying the whole room: ${r.owner} may no longer use @room here.)`);
  if (d.lateMs > d.lateNoteMs) {
    let note = `_Delivered ${humanizeMs(d.lateMs)} late: the bridge was offline._`;
    if (d.missed > 0) note += ` _It also missed ${d.missed} earlier time${d.missed === 1 ? "" : "s"}._`;
    lines.push(note);
  }
  const footer = [`\`${r.id}\``];
  if (r.recurrence && d.next && !d.snooze) {
    footer.push(`next: ${formatInstant(d.next, d.zone)} (${d.zone})`, "reply `cancel` to stop it");
  } else {
    footer.push("reply `snooze 15m` to be reminded again");
  }
  lines.push(footer.join(" · "));
  return lines.join("\n");
}

export interface ListOptions {
  zone: string;
  now: Date;
  viewer: string;
  roomId: string;
  subscriberCounts: Map<string, number>;
  title: string;
  limit?: number;
}

/** `list`: one line per reminder, in the viewer's timezone. */
export function listText(reminders: Reminder[], o: ListOptions): string {
  if (!reminders.length) return `${o.title}: none.`;
  const limit = o.limit ?? 50;
  const lines = [`${o.title} (times in ${o.zone}):`];
  for (const r of reminders.slice(0, limit)) {
    const at = nextFiring(r);
    const parts = [`\`${r.id}\``];
    parts.push(at ? `**${formatInstant(at, o.zone)}** (${relative(at, o.now)})` : "not scheduled");
    if (r.recurrence) parts.push(`repeats ${describeRecurrence(r.recurrence)}`);
    if (r.snoozeDueAt) parts.push("snoozed");
    if (r.mentionRoom) parts.push("notifies the room");
    if (r.owner !== o.viewer) parts.push(`by ${r.owner}`);
    const subs = o.subscriberCounts.get(r.id) ?? 0;
    if (subs) parts.push(`+${subs} subscriber${subs === 1 ? "" : "s"}`);
    if (r.roomId !== o.roomId) parts.push(`in ${r.roomId}`);
    parts.push(oneLine(r.message));
    lines.push(`- ${parts.join(" · ")}`);
  }
  if (reminders.length > limit) lines.push(`…and ${reminders.length - limit} more.`);
  return lines.join("\n");
}
