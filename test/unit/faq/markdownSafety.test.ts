import { messageContent, renderMarkdown } from "../../../src/queue/renderMessage";
import { faqAgent } from "../../../src/agents/faq";
import { answerProblem, unsafeLinks } from "../../../src/agents/faq/safety";
import { codeBlock } from "../../../src/agents/faq/format";
import { AgentHarness } from "./agentHarness";

/** Tags markdown-it may produce with html disabled, and the attributes each may carry. */
const ALLOWED: Record<string, RegExp | null> = {
  p: null,
  strong: null,
  em: null,
  s: null,
  del: null,
  code: /^class="language-[\w-]*"$/,
  pre: null,
  a: /^href="[^"]*"$/,
  ul: null,
  ol: /^start="\d+"$/,
  li: null,
  blockquote: null,
  h1: null,
  h2: null,
  h3: null,
  h4: null,
  h5: null,
  h6: null,
  hr: null,
  br: null,
  table: null,
  thead: null,
  tbody: null,
  tr: null,
  th: /^style="text-align:(left|right|center)"$/,
  td: /^style="text-align:(left|right|center)"$/,
};
const SAFE_HREF = /^(https?:|mailto:|matrix:|[^:]*$)/i;

/** Throws with the reason when the HTML could run code, load remote content or style the page. */
function expectSafeHtml(html: string): void {
  for (const m of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)) {
    const [tag, name, rawAttrs] = m;
    const attrs = rawAttrs.trim().replace(/\s*\/$/, "");
    const lower = name.toLowerCase();
    expect({ tag, allowed: lower in ALLOWED }).toEqual({ tag, allowed: true });
    if (attrs !== "" && !tag.startsWith("</")) {
      const pattern = ALLOWED[lower];
      expect({ tag, attrsAllowed: pattern !== null && pattern.test(attrs) }).toEqual({
        tag,
        attrsAllowed: true,
      });
    }
    const href = /href="([^"]*)"/.exec(attrs)?.[1];
    if (href !== undefined) expect({ tag, href, safe: SAFE_HREF.test(href) }).toMatchObject({ safe: true });
  }
  expect(html).not.toMatch(/<(script|img|iframe|svg|style|object|embed|details|form|input|math)\b/i);
  expect(html).not.toMatch(/<[^>]*\son\w+\s*=/i);
}

const HOSTILE: [string, string][] = [
  ["script tag", "<script>alert(1)</script>"],
  ["script in bold", "**<script>alert(1)</script>**"],
  ["img onerror", "<img src=x onerror=alert(1)>"],
  ["svg onload", "<svg onload=alert(1)>"],
  ["details ontoggle", "<details open ontoggle=alert(1)>"],
  ["raw anchor with javascript:", '<a href="javascript:alert(1)">x</a>'],
  ["javascript: link", "[click](javascript:alert(1))"],
  ["mixed-case javascript: link", "[click](JaVaScRiPt:alert(1))"],
  ["entity-encoded javascript: link", "[click](&#106;avascript:alert(1))"],
  ["javascript: in angle brackets", "[click](<javascript:alert(1)>)"],
  ["javascript: autolink", "<javascript:alert(1)>"],
  ["javascript: reference link", "[x]: javascript:alert(1)\n\n[y][x]"],
  ["vbscript: link", "[click](vbscript:msgbox(1))"],
  ["data:text/html link", "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"],
  ["file: link", "[click](file:///etc/passwd)"],
  ["attribute break-out in href", '[a](https://ok.example/"onmouseover="alert(1))'],
  ["remote image", "![tracker](https://evil.example/pixel.png)"],
  ["iframe", '<iframe src="https://evil.example"></iframe>'],
  ["style tag", "<style>body{display:none}</style>"],
  ["html comment", "<!-- hidden --><p>"],
  ["code fence with html", "```html\n<script>alert(1)</script>\n```"],
  ["table with html", "| a |\n|---|\n| <b onclick=x>b</b> |"],
];

describe("Markdown answers render to safe HTML", () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await AgentHarness.create(faqAgent, { config: { max_answer_length: 100 } });
    h.setPower("!r:test", "@mod:test", 100);
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(HOSTILE)("renderMarkdown: %s", (_name, input) => {
    expectSafeHtml(renderMarkdown(input));
  });

  it.each(HOSTILE)("an FAQ answer: %s", async (_name, input) => {
    const saved = await h.say("@mod:test", "!r:test", `set k ${input}`);
    expectSafeHtml(String(messageContent(saved).formatted_body ?? ""));
    if (/^(Saved|Updated)/.test(saved)) {
      const shown = await h.say("@user:test", "!r:test", "k");
      expect(shown).toBe(input);
      expectSafeHtml(String(messageContent(shown).formatted_body ?? ""));
    }
  });

  it("keeps ordinary formatting and safe links", () => {
    const html = renderMarkdown(
      "**bold** _it_ `code` [site](https://example.org) <https://x.example>\n\n- a\n- b",
    );
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain('<a href="https://example.org">site</a>');
    expectSafeHtml(html);
  });

  // markdown-it's own validateLink allows data:image/…; renderMessage.ts restricts schemes.
  it("renderMarkdown drops data:image links", () => {
    expectSafeHtml(renderMarkdown("[a](data:image/png;base64,iVBORw0KGgo=)"));
  });

  it("the FAQ refuses answers with data: or other unsafe links when they are saved", () => {
    expect(unsafeLinks("[a](data:image/png;base64,iVBORw0KGgo=)")).toEqual([
      "data:image/png;base64,iVBORw0KGgo=",
    ]);
    expect(answerProblem("[a](data:image/png;base64,iVBORw0KGgo=)", 4000)).toMatch(/`data:`/);
    expect(answerProblem("[a](mxc://x/y)", 4000)).toMatch(/`mxc:`/);
    expect(
      answerProblem("[a](https://ok.example) [b](mailto:x@y.z) [c](matrix:u/x:y)", 4000),
    ).toBeUndefined();
  });

  it("refuses oversized answers before rendering them, with the numbers", async () => {
    expect(answerProblem("x".repeat(4001), 4000)).toBe(
      "The answer is too long (4001 characters; the limit is 4000). Please shorten it.",
    );
    // Counted in characters, not UTF-16 units.
    expect(answerProblem("😀".repeat(4000), 4000)).toBeUndefined();
    expect(await h.say("@mod:test", "!r:test", `set big ${"[".repeat(5000)}`)).toMatch(/too long \(5000/);
    expect(await h.say("@user:test", "!r:test", "big")).not.toContain("[[[");
  });

  it("renders pathological input of the largest event size in bounded time", () => {
    const started = Date.now();
    for (const input of [
      "[".repeat(60_000),
      "*a".repeat(30_000),
      "> ".repeat(10_000) + "x",
      "`".repeat(60_000),
    ]) {
      expectSafeHtml(renderMarkdown(input));
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("export code blocks cannot be closed early by backticks in answers", () => {
    const block = codeBlock('{"answer": "```js\\n`x`\\n````"}', "json");
    expect(block.startsWith("`````json\n")).toBe(true);
    const html = renderMarkdown(block);
    expect(html.startsWith('<pre><code class="language-json">')).toBe(true);
    expect(html.match(/<pre>/g)).toHaveLength(1);
  });
});
