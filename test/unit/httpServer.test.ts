import { HttpServer, type PushedTransaction } from "../../src/appservice/httpServer";
import type { Rejection } from "../../src/appservice/eventValidation";

const HS = "hs-token-for-the-http-tests";
const METRICS = "metrics-token-for-the-tests";

describe("appservice HTTP API at the door", () => {
  let server: HttpServer;
  let base: string;
  const pushed: PushedTransaction[] = [];
  const rejected: Rejection[] = [];
  let readinessCalls = 0;

  beforeAll(async () => {
    process.env.NODE_ENV = "development"; // the default error page would show a stack trace here
    server = new HttpServer({
      hsToken: HS,
      metricsEnabled: true,
      metricsToken: METRICS,
      onEventRejected: (r) => rejected.push(r),
      handlers: {
        onTransaction: async (txn) => void pushed.push(txn),
        onUserQuery: async () => false,
        onPing: () => undefined,
        readiness: async () => {
          readinessCalls++;
          return { ready: false, checks: { homeserver: "Cannot reach http://10.1.2.3:8008" } };
        },
        metrics: async () => ({ contentType: "text/plain", body: "" }),
      },
    });
    base = `http://127.0.0.1:${await server.listen(0, "127.0.0.1")}`;
  });
  afterAll(async () => {
    await server.close();
    delete process.env.NODE_ENV;
  });

  const put = (txnId: string, body: string, contentType = "application/json") =>
    fetch(`${base}/_matrix/app/v1/transactions/${txnId}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${HS}`, "Content-Type": contentType },
      body,
    });

  it("answers 200 for the rest when an event is malformed, and reports the malformed one", async () => {
    // Written out by hand: JSON.stringify itself runs out of stack on this.
    const deep = '{"d":'.repeat(5000) + "{}" + "}".repeat(5000);
    const events = [
      JSON.stringify({ event_id: "", room_id: "!r:x", type: "m.room.message", sender: "@a:x", content: {} }),
      `{"event_id":"$deep","room_id":"!r:x","type":"m.room.message","sender":"@a:x","content":${deep}}`,
      JSON.stringify({
        event_id: "$ok",
        room_id: "!r:x",
        type: "m.room.message",
        sender: "@a:x",
        content: {},
      }),
    ];
    const res = await put("t1", `{"events":[${events.join(",")}]}`);
    expect(res.status).toBe(200);
    expect(pushed.at(-1)!.events.map((e) => e.event_id)).toEqual(["$ok"]);
    expect(rejected.map((r) => r.reason)).toEqual(["bad_event_id", "too_deep"]);
  });

  it("hands over the whole body (for fields such as to-device messages)", async () => {
    await put("t2", JSON.stringify({ events: [], "de.sorunome.msc2409.to_device": [{ type: "x" }] }));
    expect(pushed.at(-1)!.body["de.sorunome.msc2409.to_device"]).toEqual([{ type: "x" }]);
  });

  it("refuses a body that is not declared JSON instead of dropping its events", async () => {
    const before = pushed.length;
    const res = await put("t3", JSON.stringify({ events: [] }), "text/plain");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errcode: string }).errcode).toBe("M_NOT_JSON");
    expect(pushed.length).toBe(before);
  });

  it("answers broken JSON in JSON, without a stack trace, whatever NODE_ENV says", async () => {
    const res = await put("t4", "{ not json");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/json");
    const text = await res.text();
    expect(text).not.toMatch(/<html|at \w+ \(|node_modules|\.js:\d+/i);
    expect(JSON.parse(text).errcode).toBe("M_NOT_JSON");
  });

  it("tells anonymous probes only ready or not, and reuses the answer briefly", async () => {
    const before = readinessCalls;
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => fetch(`${base}/ready`)));
    expect(answers.every((r) => r.status === 503)).toBe(true);
    const body = await answers[0].json();
    expect(body).toEqual({ status: "not ready" });
    expect(JSON.stringify(body)).not.toContain("10.1.2.3");
    expect(readinessCalls - before).toBe(1);
    const detailed = await fetch(`${base}/ready`, { headers: { Authorization: `Bearer ${METRICS}` } });
    expect(((await detailed.json()) as { checks: Record<string, string> }).checks.homeserver).toContain(
      "Cannot reach",
    );
  });
});
