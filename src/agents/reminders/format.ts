import { describeRecurrence, formatInstant, formatWhen, humanizeMs, relative, type Recurrence } from "../kit";
import { nextFiring, type Reminder } from "./store";

export { formatInstant, formatWhen };

/** How often an `--until-ack` reminder repeats, and how many times at most. */
export const NAG_MINUTES = 5;
export const MAX_NAGS = 12;

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
  /** How the time was read ("“at 5” read as 17:00 …"). */
  notes?: string[];
  untilAck?: boolean;
  /** The reminder an edited command replaced. */
  replacedId?: string;
  /** Link to the message the reminder is about (reply-to-remind). */
  quoteLink?: string;
}

export function confirmationText(c: ConfirmationInput): string {
  const who = c.mentionRoom ? "I'll notify **the whole room**" : "I'll remind you";
  const lines = [`⏰ ${who} ${formatWhen(c.dueAt, c.zone, c.now)}:`, quote(c.message)];
  if (c.quoteLink) lines.push(`(of [this message](${c.quoteLink}))`);
  if (c.recurrence) lines.push(`Repeats ${describeRecurrence(c.recurrence)}.`);
  if (c.notes?.length) lines.push(`_Read: ${c.notes.join("; ")}._`);
  if (c.untilAck) {
    lines.push(`It repeats every ${NAG_MINUTES} minutes until you react ✅ or reply \`done\`.`);
  }
  if (c.replacedId) lines.push(`(This replaces \`${c.replacedId}\`, set by the command you edited.)`);
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
  /** Link to the message the reminder is about. */
  quoteLink?: string;
  /** `--until-ack`: this is repeat number n (0 = the first delivery). */
  nag?: number;
}

/** The reminder itself: mentions first, so notifications read "⏰ @alice:…: stretch". */
export function deliveryText(d: DeliveryInput): string {
  const r = d.reminder;
  const people = [r.owner, ...d.subscribers.filter((u) => u !== r.owner)];
  const head = d.mentionRoom ? `⏰ @room: ${r.message}` : `⏰ ${people.join(", ")}: ${r.message}`;
  const lines = [d.nag ? `${head} _(again, ${d.nag}/${MAX_NAGS})_` : head];
  if (d.quoteLink)
    lines.push(`[The message](${d.quoteLink})${r.quote?.sender ? ` from ${r.quote.sender}` : ""}`);
  if (d.mentionRoom) lines.push(`Set by ${r.owner}.`);
  if (d.roomMentionDropped)
    lines.push(`(Not notifying the whole room: ${r.owner} may no longer use @room here.)`);
  if (d.lateMs > d.lateNoteMs) {
    let note = `_Delivered ${humanizeMs(d.lateMs)} late: the bridge was offline._`;
    if (d.missed > 0) note += ` _It also missed ${d.missed} earlier time${d.missed === 1 ? "" : "s"}._`;
    lines.push(note);
  }
  const footer = [`\`${r.id}\``];
  if (r.untilAck) footer.push("react ✅ or reply `done` to stop the repeats");
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
