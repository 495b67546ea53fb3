import { Writable } from "node:stream";
import express from "express";
import type { AddressInfo } from "node:net";
import { secretsEqual, requireHsToken } from "../../src/appservice/hsTokenAuth";
import { createRootLogger, registerSecrets, scrubSecrets } from "../../src/logging/logger";
import { InviteAllowList } from "../../src/appservice/inviteAllowList";

describe("hs_token check", () => {
  it("compares secrets exactly", () => {
    expect(secretsEqual("abc", "abc")).toBe(true);
    expect(secretsEqual("abc", "abd")).toBe(false);
    expect(secretsEqual("abc", "abcd")).toBe(false);
    expect(secretsEqual("", "abc")).toBe(false);
  });

  it("answers 401 without a token, 403 with a wrong one, and passes the right one", async () => {
    const app = express();
    app.use(requireHsToken("s3cret-token-value"));
    app.get("/x", (_req, res) => void res.json({ ok: true }));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    try {
      expect((await fetch(base)).status).toBe(401);
      expect((await fetch(base, { headers: { Authorization: "Bearer wrong" } })).status).toBe(403);
      expect((await fetch(`${base}?access_token=wrong`)).status).toBe(403);
      expect((await fetch(base, { headers: { Authorization: "Bearer s3cret-token-value" } })).status).toBe(
        200,
      );
      expect((await fetch(`${base}?access_token=s3cret-token-value`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});

describe("logging never shows secrets", () => {
  function capture() {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    return { lines, logger: createRootLogger({ level: "trace", format: "json" }, stream) };
  }

  it("redacts token fields in objects, URLs and known secret values in text", () => {
    const asToken = "as_0123456789abcdef0123456789abcdef";
    registerSecrets(asToken);
    const { lines, logger } = capture();
    logger.info({ as_token: asToken, registration: { hs_token: "hs_secret_value_123" } }, "object");
    logger.info(`calling https://hs/_matrix?access_token=${asToken}&x=1`);
    logger.info({ headers: { authorization: `Bearer ${asToken}` } }, "headers");
    logger.warn(`token leaked in prose: ${asToken}`);
    const out = lines.join("");
    expect(lines).toHaveLength(4);
    expect(out).not.toContain(asToken);
    expect(out).not.toContain("hs_secret_value_123");
    expect(out).toContain("[redacted]");
  });

  it("scrubs bearer tokens and JSON token fields in free text", () => {
    expect(scrubSecrets('Authorization: Bearer abc.def-123 {"hs_token":"xyz"}')).toBe(
      'Authorization: Bearer [redacted] {"hs_token":"[redacted]"}',
    );
  });
});

describe("invite allow-list", () => {
  it("defaults to users of our own homeserver", () => {
    const list = new InviteAllowList([], "example.org");
    expect(list.allows("@alice:example.org")).toBe(true);
    expect(list.allows("@mallory:evil.org")).toBe(false);
    expect(list.allows("@mallory:example.org.evil.org")).toBe(false);
  });

  it("takes user globs and server names", () => {
    const list = new InviteAllowList(["@admin:*", "*.corp.example", "partner.org"], "example.org");
    expect(list.allows("@admin:anywhere.net")).toBe(true);
    expect(list.allows("@bob:eu.corp.example")).toBe(true);
    expect(list.allows("@bob:partner.org")).toBe(true);
    expect(list.allows("@bob:example.org")).toBe(false);
  });
});

describe("invite allow-list is linear and matches valid server names only", () => {
  it("does not let a second ':' smuggle a foreign server past @*:example.org", () => {
    const list = new InviteAllowList(["@*:example.org"], "example.org");
    expect(list.allows("@x:evil.com:example.org")).toBe(false);
    expect(list.allows("@x:example.org")).toBe(true);
    expect(list.allows("@x:EXAMPLE.org")).toBe(true);
    expect(list.allows("@x:example.org:8448")).toBe(false);
    expect(new InviteAllowList(["example.org:8448"], "x").allows("@x:example.org:8448")).toBe(true);
  });

  it("refuses malformed user ids", () => {
    const list = new InviteAllowList(["*"], "example.org");
    for (const id of ["", "x", "@:example.org", "@x", "@x:", "@x:exa mple.org", "@x:-bad-.org/"]) {
      expect(list.allows(id)).toBe(false);
    }
    expect(list.allows("@x:[::1]:8448")).toBe(true);
  });

  it("matches ? and several * exactly", () => {
    const list = new InviteAllowList(["@a?c*z:*.corp.example"], "x");
    expect(list.allows("@abcz:eu.corp.example")).toBe(true);
    expect(list.allows("@abc-middle-z:eu.corp.example")).toBe(true);
    expect(list.allows("@acz:eu.corp.example")).toBe(false);
    expect(list.allows("@abcz:corp.example")).toBe(false);
  });

  it("stays fast on a pattern with many * and a hostile id", () => {
    const list = new InviteAllowList(["@" + "*a".repeat(100) + "*b:example.org"], "x");
    const id = "@" + "a".repeat(240) + ":example.org";
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) expect(list.allows(id)).toBe(false);
    // A backtracking regex takes minutes here; generous bound for a busy machine.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });
});
