import { Writable } from "node:stream";
import { createRootLogger } from "../../src/logging/logger";
import { redactDeep, registerSecrets, scrubSecrets, isSecretKey } from "../../src/logging/redact";
import { MatrixHttpError } from "../../src/appservice/homeserverClient";

const AS = "as_Q2hhbmdlTWVBc1Rva2VuVmFsdWU0Mg";
const HS = "hs_SGVsbG9Ic1Rva2VuVmFsdWVYWVo5OQ";
const PICKLE = "pk_c2VjcmV0UGlja2xlS2V5VmFsdWU";
const OTHER = "syt_b3RoZXJUb2tlblRoYXRJc05vdFJlZ2lzdGVyZWQ";

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

/**
 * Every way a token was seen (or could plausibly) reach a log line: the audit found 11 of 17 of
 * these leaking when only bare strings and a few fixed paths were scrubbed.
 */
const LEAKS: [string, (log: ReturnType<typeof capture>["logger"]) => void][] = [
  ["top-level field", (l) => l.info({ as_token: AS }, "x")],
  ["nested field", (l) => l.info({ registration: { hs_token: HS } }, "x")],
  ["deeply nested field", (l) => l.info({ a: { b: { c: { d: { accessToken: OTHER } } } } }, "x")],
  ["capitalised header", (l) => l.info({ headers: { Authorization: `Bearer ${OTHER}` } }, "x")],
  ["request headers", (l) => l.info({ req: { headers: { AUTHORIZATION: `Bearer ${OTHER}` } } }, "x")],
  ["err field with message", (l) => l.error({ err: new Error(`failed with token ${AS}`) }, "x")],
  [
    "err field with own property",
    (l) =>
      l.error({ err: Object.assign(new Error("boom"), { config: { headers: { authorization: OTHER } } }) }),
  ],
  ["error cause", (l) => l.error({ err: new Error("outer", { cause: new Error(`inner ${HS}`) }) }, "x")],
  ["error as first argument", (l) => l.error(new Error(`token=${OTHER}`))],
  [
    "url with access_token",
    (l) => l.info({ url: `https://hs/_matrix/x?user_id=@a:b&access_token=${OTHER}` }, "x"),
  ],
  ["url object", (l) => l.info({ url: new URL(`https://hs/x?access_token=${OTHER}`) }, "x")],
  ["message text", (l) => l.info(`calling https://hs/_matrix?access_token=${OTHER}&x=1`)],
  ["format argument", (l) => l.info("sending %s", `Bearer ${OTHER}`)],
  ["echoed JSON body", (l) => l.warn({ body: `{"errcode":"M_X","Authorization":"Bearer ${OTHER}"}` }, "x")],
  ["echoed header text", (l) => l.warn({ body: `Authorization: Basic ${OTHER}` }, "x")],
  ["homeserver error", (l) => l.warn({ err: new MatrixHttpError(401, "M_UNKNOWN_TOKEN", `bad ${AS}`) }, "x")],
  ["literal secret in prose", (l) => l.warn(`leaked: ${HS}`)],
  ["pickle key", (l) => l.info({ encryption: { pickle_key: PICKLE } }, "x")],
  ["password in database url", (l) => l.info({ db: "postgres://mab:hunter2secret@db/mab" }, "x")],
  ["array of objects", (l) => l.info({ list: [{ token: OTHER }, { x: 1 }] }, "x")],
  ["child bindings", (l) => l.child({ auth: { access_token: OTHER } }).info("x")],
  ["map values", (l) => l.info({ m: new Map([["as_token", AS]]) }, "x")],
];

describe("no secret reaches a log line", () => {
  beforeAll(() => registerSecrets(AS, HS));

  it.each(LEAKS)("%s", (_name, write) => {
    const { lines, logger } = capture();
    write(logger);
    expect(lines).toHaveLength(1);
    const out = lines[0];
    for (const secret of [AS, HS, OTHER, PICKLE, "hunter2secret"]) expect(out).not.toContain(secret);
    expect(out).toContain("[redacted]");
  });

  it("keeps everything else readable", () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error("room not found"), roomId: "!r:x", tokenCount: 3 }, "send failed");
    const line = JSON.parse(lines[0]);
    expect(line.roomId).toBe("!r:x");
    expect(line.tokenCount).toBe(3);
    expect(line.err.message).toBe("room not found");
    expect(line.err.type).toBe("Error");
    expect(line.msg).toBe("send failed");
  });

  it("survives cycles and depth without throwing", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    let deep: Record<string, unknown> = { token: OTHER };
    for (let i = 0; i < 1000; i++) deep = { next: deep };
    const out = JSON.stringify(redactDeep({ a, deep }));
    expect(out).toContain("[circular]");
    expect(out).toContain("[too deep]");
    expect(out).not.toContain(OTHER);
  });

  it("scrubs long hostile text in linear time", () => {
    // Quadratic patterns would take many seconds here; the bound is generous for a busy machine.
    const hostile = [
      "a".repeat(1 << 20),
      "a.".repeat(1 << 19),
      "token".repeat(200_000),
      "://:".repeat(200_000),
    ];
    for (const text of hostile) {
      const started = process.hrtime.bigint();
      scrubSecrets(text);
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1500);
    }
  });

  it("names secret keys by their ending, in any case or separator", () => {
    for (const key of [
      "as_token",
      "hsToken",
      "Authorization",
      "X-Api-Key",
      "pickle_key",
      "PASSWORD",
      "cookie",
    ])
      expect(isSecretKey(key)).toBe(true);
    for (const key of ["tokenCount", "roomId", "headers", "key", "eventId"])
      expect(isSecretKey(key)).toBe(false);
  });
});
