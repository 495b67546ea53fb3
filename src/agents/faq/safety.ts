import { renderMarkdown } from "../../queue/renderMessage";

/**
 * Defence in depth for saved answers. The core renderer already escapes HTML and drops
 * javascript:, vbscript: and file: links, but markdown-it lets `data:image/…` links through;
 * an answer is stored once and shown many times, so the FAQ refuses any link whose scheme is
 * not plainly safe when it is saved.
 */
export const SAFE_LINK_SCHEMES = ["http", "https", "mailto", "matrix"];

/** Link targets in the rendered answer whose scheme is not in SAFE_LINK_SCHEMES. */
export function unsafeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of renderMarkdown(markdown).matchAll(/<a\s[^>]*href="([^"]*)"/g)) {
    const href = m[1].replace(/&amp;/g, "&");
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href)?.[1].toLowerCase();
    if (scheme !== undefined && !SAFE_LINK_SCHEMES.includes(scheme)) out.push(href);
  }
  return out;
}

/** Why an answer cannot be saved, or undefined when it can. */
export function answerProblem(answer: string, maxLength: number): string | undefined {
  const length = [...answer].length;
  if (length > maxLength) {
    return `The answer is too long (${length} characters; the limit is ${maxLength}). Please shorten it.`;
  }
  const bad = unsafeLinks(answer);
  if (bad.length > 0) {
    const scheme = bad[0].split(":")[0];
    return `Links in answers may only use ${SAFE_LINK_SCHEMES.join(", ")}; this one uses \`${scheme}:\`.`;
  }
  return undefined;
}
