import MarkdownIt from "markdown-it";
import type { OutgoingMessage } from "../agents/types";

/**
 * Markdown → Matrix HTML. `html: false` escapes any HTML in the input (no script, no event
 * handlers), markdown-it's link validation drops javascript:/data: links, and images are
 * disabled because Matrix clients only load mxc:// media and remote URLs leak who reads.
 */
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true }).disable(["image"]);

/** Links with a scheme must use one of these; markdown-it alone would allow data:image/… URLs. */
const SAFE_SCHEME = /^(https?|mailto|matrix):/i;
markdown.validateLink = (url: string): boolean => {
  const trimmed = url.trim();
  return !/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || SAFE_SCHEME.test(trimmed);
};

export function renderMarkdown(source: string): string {
  return markdown.render(source).trim();
}

/**
 * Mentioned user ids written in the text become pills (matrix.to links) in the HTML, so
 * clients show the person; the plain body keeps the bare id, which notifications display.
 */
function withPills(html: string, userIds: readonly string[]): string {
  let out = html;
  for (const userId of userIds) {
    const escaped = escapeHtml(userId);
    const link = `<a href="https://matrix.to/#/${escaped}">${escaped}</a>`;
    // Only in text, not inside an attribute or an existing link.
    out = out.replace(new RegExp(`(^|[\\s>(])${escapeRegex(escaped)}(?![^<]*</a>)`, "g"), `$1${link}`);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** True when the HTML adds nothing over the plain text (a single plain paragraph). */
function isPlain(source: string, html: string): boolean {
  return html === `<p>${escapeHtml(source)}</p>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Where a message goes in the conversation: in reply to an event, in a thread, or as an edit. */
export interface MessagePlace {
  /** Reply to this event (m.in_reply_to). */
  eventId?: string;
  /** Inside this thread (the root's event id): an m.thread relation. */
  threadId?: string;
  /** Replace (edit) this earlier message of ours: m.replace with m.new_content. */
  replaces?: string;
}

/** Builds m.room.message content: plain body plus sanitized HTML, mentions, and its relation. */
export function messageContent(
  message: string | OutgoingMessage,
  place?: MessagePlace,
): Record<string, unknown> {
  const msg: OutgoingMessage = typeof message === "string" ? { markdown: message } : message;
  const mentions = [...new Set(msg.mentions ?? [])];
  const html = withPills(renderMarkdown(msg.markdown), mentions);
  const content: Record<string, unknown> = {
    msgtype: msg.msgtype ?? "m.notice",
    body: msg.markdown,
  };
  if (!isPlain(msg.markdown, html)) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = html;
  }
  const mentionBlock: Record<string, unknown> = {};
  if (mentions.length) mentionBlock.user_ids = mentions;
  if (msg.mentionRoom) mentionBlock.room = true;
  content["m.mentions"] = mentionBlock;
  if (place?.replaces) return editContent(content, place.replaces);
  const threadId = place?.threadId ?? msg.threadId;
  if (threadId) {
    // Clients without threads show it as a reply (is_falling_back) to the command or the root.
    content["m.relates_to"] = {
      rel_type: "m.thread",
      event_id: threadId,
      is_falling_back: !place?.eventId,
      "m.in_reply_to": { event_id: place?.eventId ?? threadId },
    };
  } else if (place?.eventId) {
    content["m.relates_to"] = { "m.in_reply_to": { event_id: place.eventId } };
  }
  return content;
}

/**
 * An edit of our earlier message: clients show `m.new_content` in place of the original; the
 * outer body, starred, is the fallback for clients without edits. Mentions are not repeated in
 * the outer event, so an edit does not notify again.
 */
function editContent(content: Record<string, unknown>, target: string): Record<string, unknown> {
  const outer: Record<string, unknown> = {
    msgtype: content.msgtype,
    body: `* ${String(content.body)}`,
    "m.new_content": content,
    "m.relates_to": { rel_type: "m.replace", event_id: target },
    "m.mentions": {},
  };
  if (content.formatted_body !== undefined) {
    outer.format = content.format;
    outer.formatted_body = `* ${String(content.formatted_body)}`;
  }
  return outer;
}
