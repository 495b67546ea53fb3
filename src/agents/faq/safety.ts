/**
 * Saved answers are checked for links when they are saved. The core renderer already escapes
 * HTML and drops links with other schemes, but an answer is stored once and shown many times,
 * so its author hears at once that such a link would not work.
 */
export const SAFE_LINK_SCHEMES = ["http", "https", "mailto", "matrix"];

/** Link targets in the answer's Markdown whose scheme is not in SAFE_LINK_SCHEMES. */
export function unsafeLinks(markdown: string): string[] {
  // Read the link targets from the source: the renderer already drops unsafe ones, but
  // the person saving the answer should hear that their link would not work.
  const out: string[] = [];
  const targets = [
    ...[...markdown.matchAll(/\]\(\s*<?([^)\s>]+)/g)].map((m) => m[1]),
    ...[...markdown.matchAll(/<([a-z][a-z0-9+.-]*:[^>\s]+)>/gi)].map((m) => m[1]),
  ];
  for (const href of targets) {
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
