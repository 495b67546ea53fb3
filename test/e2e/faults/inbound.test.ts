/**
 * Fault tests of the inbound side (exactly once in), bridges in this process, on a real Synapse:
 * transactions replayed and re-batched, the database unavailable while a transaction arrives (both
 * on PGlite and PostgreSQL), two bridges on one PostgreSQL fed the same transactions. Plus the fixed
 * sending device and /metrics.
 *
 * Transactions are PUT straight to the bridge's appservice API with the hs_token, as Synapse sends
 * them; their events are messages in a real DM with the echo agent, so every event handled gives
 * exactly one reply in the room, which we count on the homeserver's own timeline (/messages).
 */
import { randomBytes } from "node:crypto";
import { BridgeFixture, freeLoopbackPort } from "../../harness/bridgeFixture";
import {
  ECHO,
  RawUser,
  awaitReplies,
  createPgDatabase,
  metricValues,
  reportFault,
  viaPort,
} from "../../harness/faultKit";
import { TcpProxy } from "../../harness/faultProxy";
import { AgentBridge } from "../../../src/appservice/agentBridge";
import { Inbox } from "../../../src/store/inbox";
import { echoAgent } from "../../../src/agents/echo";

const run = randomBytes(3).toString("hex");
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Current value of a prom-client metric, summed over the label sets matching `labels`. */
async function value(
  metric: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels = {},
): Promise<number> {
  const { values } = await metric.get();
  const want = Object.entries(labels);
  return values
    .filter((v) => want.every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A message event as Synapse would push it. Ids are unique per room, tag and number. */
function message(roomId: string, sender: string, tag: string, i: number) {
  return {
    event_id: `$${tag}-${i}-${run}-${roomId.slice(1, 9)}`,
    room_id: roomId,
    sender,
    type: "m.room.message",
    content: { msgtype: "m.text", body: `${tag} ${i}` },
    origin_server_ts: Date.now(),
    unsigned: { age: 1 },
  };
}

describe("exactly once in, under faults", () => {
  let fixture: BridgeFixture;

  beforeAll(async () => {
    fixture = await BridgeFixture.create({ config: { bridge: { command_rate_per_minute: 100_000 } } });
  });

  afterAll(async () => {
    await fixture?.close();
  });

  async function startBridge(database: { url?: string; data_dir?: string }, port?: number) {
    const config = {
      ...fixture.config,
      appservice: { ...fixture.config.appservice, port: port ?? fixture.config.appservice.port },
      database: { ...fixture.config.database, data_dir: ":memory:", ...database },
    };
    const bridge = new AgentBridge(config, { registration: fixture.registration, definitions: [echoAgent] });
    await bridge.start();
    return bridge;
  }

  async function putTransaction(port: number, txnId: string, events: unknown[]): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${port}/_matrix/app/v1/transactions/${txnId}`, {
      method: "PUT",
      headers: {
        Authorization: `Bearer ${fixture.registration.hs_token}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ events }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  describe.each(["pglite", "postgres"] as const)("on %s", (backend) => {
    let bridge: AgentBridge;
    let human: RawUser;
    let room: string;
    /** PostgreSQL only: the bridge reaches its database through this relay, which we can cut. */
    let dbProxy: TcpProxy | undefined;
    let db: Awaited<ReturnType<typeof createPgDatabase>> | undefined;

    beforeAll(async () => {
      if (backend === "postgres") {
        db = await createPgDatabase();
        dbProxy = await TcpProxy.start({ host: db.host, port: db.port });
        bridge = await startBridge({ url: viaPort(db.url, dbProxy.port) });
      } else {
        bridge = await startBridge({ data_dir: ":memory:" });
      }
      human = await RawUser.register(fixture.synapse, `in_${backend}`);
      room = await human.openDm();
    });

    afterAll(async () => {
      await bridge?.stop();
      await dbProxy?.close();
      await db?.drop();
    });

    afterEach(() => jest.restoreAllMocks());

    it("handles each event once when transactions are replayed and events re-batched", async () => {
      const tag = `replay-${backend}`;
      const ev = (i: number) => message(room, human.userId, tag, i);
      const statuses: number[] = [];
      const put = async (txnId: string, ids: number[]) =>
        statuses.push(await putTransaction(bridge.port, `${run}-${backend}-${txnId}`, ids.map(ev)));
      const dedupedBefore = await value(bridge.metrics.eventsDeduplicated);

      // T1 (1-10) five times in a row, then three times at once.
      for (let i = 0; i < 5; i++) await put("T1", range(1, 10));
      await Promise.all([put("T1", range(1, 10)), put("T1", range(1, 10)), put("T1", range(1, 10))]);
      // The same events again in other transactions, overlapping new ones, two of them at once;
      // and a batch with events twice in it.
      await put("T2", range(6, 15));
      await Promise.all([put("T3", range(16, 20)), put("T4", [...range(16, 20), ...range(1, 5)])]);
      await put("T5", [18, 18, 19, 20, 20]);
      const eventsPushed = 10 * 8 + 10 + 5 + 10 + 5;

      const counts = await awaitReplies(human, room, tag, 20);
      const deduplicated = (await value(bridge.metrics.eventsDeduplicated)) - dedupedBefore;
      reportFault(
        `replayed transactions (${backend})`,
        `${statuses.length} transactions carrying ${eventsPushed} events, 20 distinct`,
        { ...counts, transactions: statuses.length, eventsPushed, deduplicated },
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(counts).toMatchObject({ delivered: 20, duplicates: 0, lost: 0, inOrder: true });
      expect(deduplicated).toBe(eventsPushed - 20);
      expect((await new Inbox(bridge.database.knex).counts()).claimed).toBe(0);
    });

    it("answers 5xx while the database is unavailable, then handles the retried transaction once", async () => {
      const tag = `dbdown-${backend}`;
      const failed = () => value(bridge.metrics.transactions, { outcome: "failed" });
      const failedBefore = await failed();
      let injected: string;
      if (dbProxy) {
        await dbProxy.cut();
        injected =
          "PostgreSQL connections cut (TCP relay) while 3 messages arrive; restored 1 s after the first 5xx";
      } else {
        // PGlite lives in this process: the fault is a claim that throws as a lost database would.
        const real = Inbox.prototype.claimBatch;
        let failures = 0;
        jest.spyOn(Inbox.prototype, "claimBatch").mockImplementation(function (this: Inbox, events, opts) {
          if (failures < 1 && events.some((e) => e.room_id === room)) {
            failures++;
            return Promise.reject(new Error("injected: database unavailable"));
          }
          return real.call(this, events, opts);
        });
        injected = "the claim fails once (injected) while 3 messages arrive";
      }
      await human.sendNumbered(room, tag, 3);
      const deadline = Date.now() + 20_000;
      while ((await failed()) === failedBefore && Date.now() < deadline) await sleep(50);
      const answered5xx = (await failed()) - failedBefore;
      await sleep(1000);
      await dbProxy?.restore();

      const counts = await awaitReplies(human, room, tag, 3, { timeoutMs: 40_000 });
      reportFault(`database unavailable (${backend})`, injected, { ...counts, answered5xx });
      expect(answered5xx).toBeGreaterThanOrEqual(1);
      expect(counts).toMatchObject({ delivered: 3, duplicates: 0, lost: 0, inOrder: true });
    });

    if (backend === "postgres") {
      it("two bridges on one PostgreSQL, fed the same transactions: each event handled once in total", async () => {
        const a = bridge;
        const b = await startBridge({ url: db!.url }, await freeLoopbackPort());
        try {
          const other = await RawUser.register(fixture.synapse, "two");
          const humans = [human, other];
          const rooms = [room, await other.openDm()];
          const tag = "two";
          const n = 30;
          const sent = async () =>
            (await value(a.metrics.sends, { outcome: "sent" })) +
            (await value(b.metrics.sends, { outcome: "sent" }));
          const skipped = async (x: AgentBridge) => value(x.metrics.eventsHandled, { outcome: "skipped" });
          const before = { sent: await sent(), skippedA: await skipped(a), skippedB: await skipped(b) };

          // Batches of 5 events per room; each batch goes to both bridges at once, twice.
          let pushed = 0;
          for (let from = 1; from <= n; from += 5) {
            const events = rooms.flatMap((r, k) =>
              range(from, from + 4).map((i) => message(r, humans[k].userId, tag, i)),
            );
            const txn = `${run}-two-${from}`;
            const statuses = await Promise.all([
              putTransaction(a.port, txn, events),
              putTransaction(b.port, txn, events),
              putTransaction(b.port, `${txn}-again`, events),
              putTransaction(a.port, `${txn}-again`, events),
            ]);
            pushed += events.length * 4;
            expect(statuses).toEqual([200, 200, 200, 200]);
          }
          const counts = await Promise.all(rooms.map((r, k) => awaitReplies(humans[k], r, tag, n)));
          await a.settled();
          await b.settled();
          const handledRows = (await a.database
            .knex("inbound_events")
            .where("event_id", "like", `$${tag}-%-${run}-%`)
            .andWhere({ status: "handled" })
            .count({ n: "*" })
            .first()) as { n: string };
          const total = {
            sent: 2 * n,
            delivered: counts[0].delivered + counts[1].delivered,
            duplicates: counts[0].duplicates + counts[1].duplicates,
            lost: counts[0].lost + counts[1].lost,
            inOrder: counts.every((c) => c.inOrder),
            handledRows: Number(handledRows.n),
            // Events one bridge found already handled by the other under the row lock.
            skippedByA: (await skipped(a)) - before.skippedA,
            skippedByB: (await skipped(b)) - before.skippedB,
            // Sends recorded by both bridges together: one per reply means no room was sent twice.
            sendsTotal: (await sent()) - before.sent,
          };
          reportFault(
            "two bridges, one PostgreSQL",
            `${pushed} event deliveries: each of ${2 * n} events to both bridges, twice`,
            total,
          );
          expect(total).toMatchObject({
            delivered: 2 * n,
            duplicates: 0,
            lost: 0,
            inOrder: true,
            handledRows: 2 * n,
          });
          expect(total.sendsTotal).toBe(2 * n);
        } finally {
          await b.stop();
        }
      });
    }

    if (backend === "pglite") {
      it("sends from a fixed device per agent user, and makes it again if the homeserver loses it", async () => {
        const devices = await bridge.database.knex("agent_devices").select("user_id", "device_id", "method");
        expect(devices).toEqual(
          expect.arrayContaining([
            { user_id: ECHO, device_id: "MATRIX_AGENT_BRIDGE", method: "devices_api" },
          ]),
        );
        const asEcho = (method: string, path: string) =>
          bridge.homeserver.request(method, path, { userId: ECHO }) as Promise<{
            devices?: { device_id: string }[];
          }>;
        const deviceIds = async () =>
          (await asEcho("GET", "/_matrix/client/v3/devices")).devices?.map((d) => d.device_id);
        expect(await deviceIds()).toContain("MATRIX_AGENT_BRIDGE");
        // An admin deletes the device: the next send gets M_UNKNOWN_DEVICE, and the bridge recovers.
        await asEcho("DELETE", "/_matrix/client/v3/devices/MATRIX_AGENT_BRIDGE");
        await human.sendNumbered(room, "device", 2);
        const counts = await awaitReplies(human, room, "device", 2);
        expect(counts).toMatchObject({ delivered: 2, duplicates: 0, lost: 0 });
        expect(await deviceIds()).toContain("MATRIX_AGENT_BRIDGE");
        expect(await value(bridge.metrics.sendRetries, { reason: "unknown_device" })).toBe(1);
      });

      it("exposes the delivery metrics on /metrics", async () => {
        await bridge.settled();
        const text = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text();
        for (const name of [
          "mab_transactions_total",
          "mab_events_received_total",
          "mab_events_deduplicated_total",
          "mab_events_handled_total",
          "mab_events_unhandled",
          "mab_event_retries_total",
          "mab_outbox_sends_total",
          "mab_outbox_retries_total",
          "mab_outbox_send_seconds",
          "mab_outbox_pending",
          "mab_outbox_parked",
          "mab_outbox_oldest_pending_seconds",
          "mab_pruned_rows_total",
        ]) {
          expect(text).toContain(`# TYPE ${name} `);
        }
        expect(metricValues(text, "mab_transactions_total")['{outcome="failed"}']).toBe(1);
        expect(metricValues(text, "mab_events_deduplicated_total")[""]).toBeGreaterThanOrEqual(88);
        expect(metricValues(text, "mab_events_handled_total")['{outcome="ok"}']).toBeGreaterThanOrEqual(25);
        expect(metricValues(text, "mab_outbox_sends_total")['{outcome="sent"}']).toBeGreaterThanOrEqual(25);
        expect(metricValues(text, "mab_outbox_pending")[""]).toBe(0);
        expect(metricValues(text, "mab_outbox_oldest_pending_seconds")[""]).toBe(0);
        expect(metricValues(text, "mab_events_unhandled")[""]).toBe(0);
      });
    }
  });
});
