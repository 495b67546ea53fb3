import MarkdownIt from "markdown-it";
import type { OutgoingMessage } from "../agents/types";

/**
 * Markdown → Matrix HTML. `html: false` escapes any HTML in the input (no script, no event
 * handlers), markdown-it's link validation drops javascript:/data: links, and images are
 * disabled because Matrix clients only load mxc:// media and remote URLs leak who reads.
 */
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true }).disable(["image"]);

export function renderMarkdown(source: string): string {
  return markdown.render(source).trim();
}

/** True when the HTML adds nothing over the plain text (a single plain paragraph). */
function isPlain(source: string, html: string): boolean {
  return html === `<p>${escapeHtml(source)}</p>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Builds m.room.message content: plain body plus sanitized HTML, mentions, and reply relation. */
export function messageContent(
  message: string | OutgoingMessage,
  replyTo?: { eventId: string },
): Record<string, unknown> {
  const msg: OutgoingMessage = typeof message === "string" ? { markdown: message } : message;
  const mentions = [...new Set(msg.mentions ?? [])];
  const html = renderMarkdown(msg.markdown);
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
  if (replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: replyTo.eventId } };
  return content;
}
