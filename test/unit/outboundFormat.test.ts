import { messageContent, renderMarkdown } from "../../src/queue/renderMessage";
import { backoffDelay, classifySendError } from "../../src/queue/retryPolicy";
import { MatrixHttpError } from "../../src/appservice/homeserverClient";
import { HomeserverError } from "../../src/errors";

describe("message rendering", () => {
  it("builds a notice in reply with plain body and HTML only when needed", () => {
    const plain = messageContent("hello", { eventId: "$q" });
    expect(plain).toEqual({
      msgtype: "m.notice",
      body: "hello",
      "m.mentions": {},
      "m.relates_to": { "m.in_reply_to": { event_id: "$q" } },
    });
    const rich = messageContent({ markdown: "**hi** <@x>", mentions: ["@bob:x"], msgtype: "m.text" });
    expect(rich.formatted_body).toBe("<p><strong>hi</strong> &lt;@x&gt;</p>");
    expect(rich["m.mentions"]).toEqual({ user_ids: ["@bob:x"] });
    expect(rich.msgtype).toBe("m.text");
  });

  it("turns mentioned user ids into pills in the HTML and keeps them plain in the body", () => {
    const content = messageContent({
      markdown: "⏰ @bob:x.org: stretch",
      mentions: ["@bob:x.org"],
      msgtype: "m.text",
    });
    expect(content.body).toBe("⏰ @bob:x.org: stretch");
    expect(content.formatted_body).toBe(
      '<p>⏰ <a href="https://matrix.to/#/@bob:x.org">@bob:x.org</a>: stretch</p>',
    );
    expect(content["m.mentions"]).toEqual({ user_ids: ["@bob:x.org"] });
  });

  it.each([
    ["<script>alert(1)</script>", "<script"],
    ["[x](data:image/png;base64,AAAA)", 'href="data:'],
    ['<img src=x onerror="alert(1)">', "<img"],
    ["[click](javascript:alert(1))", 'href="javascript'],
    ["![tracker](https://evil.example/p.png)", "<img"],
  ])("neutralizes %s", (input, forbidden) => {
    expect(renderMarkdown(input)).not.toContain(forbidden);
  });
});

describe("retry policy", () => {
  const opts = { baseMs: 500, maxMs: 60_000 };
  it("honours Retry-After on 429", () => {
    expect(classifySendError(new MatrixHttpError(429, "M_LIMIT_EXCEEDED", "slow", 3000), 0, opts)).toEqual({
      kind: "retry",
      delayMs: 3000,
      reason: "429 M_LIMIT_EXCEEDED",
    });
  });
  it("retries 5xx and network errors, parks other 4xx", () => {
    expect(classifySendError(new MatrixHttpError(502, "M_UNKNOWN", "bad gateway"), 1, opts).kind).toBe(
      "retry",
    );
    expect(classifySendError(new HomeserverError("ECONNREFUSED"), 1, opts).kind).toBe("retry");
    expect(classifySendError(new MatrixHttpError(403, "M_FORBIDDEN", "not in room"), 0, opts).kind).toBe(
      "park",
    );
    expect(classifySendError(new MatrixHttpError(404, "M_NOT_FOUND", "no room"), 0, opts).kind).toBe("park");
  });
  it("backs off exponentially, capped, with jitter", () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(250);
    expect(backoffDelay(0, opts, () => 1)).toBe(500);
    expect(backoffDelay(3, opts, () => 1)).toBe(4000);
    expect(backoffDelay(50, opts, () => 1)).toBe(60_000);
  });
});
