/**
 * Fault tests with the bridge in a child process, on a real Synapse:
 *
 * - SIGKILL in the middle of a burst of commands and their replies, at five points of the
 *   pipeline (src/faultPoints.ts), then a restart on the same database: every command is answered
 *   exactly once and the replies appear in the room in order. On PGlite and on PostgreSQL; on
 *   PGlite once more with the homeserver restarted too, which wipes Synapse's in-memory transaction
 *   cache, so only the fixed sending device (transaction ids kept in Synapse's database) stands
 *   between a re-sent reply and a duplicate.
 * - SIGTERM: new transactions get 503, sends in flight finish (and are recorded) within the grace
 *   period, the rest stays in the outbox and goes out after the next start; a send that outlives the
 *   grace period is re-sent with the same transaction id and not duplicated.
 *
 * The bridge reaches Synapse through a FaultProxy (pass-through here, except where said).
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BridgeFixture } from "../../harness/bridgeFixture";
import {
  killAllBridges,
  spawnBridge,
  writeConfigFile,
  type BridgeProcess,
} from "../../harness/bridgeProcess";
import {
  RawUser,
  awaitReplies,
  countReplies,
  createPgDatabase,
  metricValues,
  reportFault,
} from "../../harness/faultKit";
import { FaultProxy } from "../../harness/faultProxy";
import type { FaultPoint } from "../../../src/faultPoints";
import { openDatabase } from "../../../src/store/database";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BURST = 20;

describe("exactly once through crashes (bridge in a child process)", () => {
  let fixture: BridgeFixture;
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await FaultProxy.start();
    fixture = await BridgeFixture.create({ config: { bridge: { command_rate_per_minute: 100_000 } } });
    proxy.upstream = fixture.synapse.baseUrl;
  });

  afterAll(async () => {
    killAllBridges();
    await proxy?.close();
    await fixture?.close();
  });

  /** Writes a config for a child bridge on `database`, reaching Synapse through the proxy. */
  function configFile(name: string, database: { url?: string; data_dir: string }): string {
    const file = join(fixture.dir, `${name}.yaml`);
    writeConfigFile(file, {
      ...fixture.config,
      homeserver: { ...fixture.config.homeserver, url: proxy.url },
      database: { ...fixture.config.database, ...database },
    });
    return file;
  }

  const bridgeUrl = () => `http://127.0.0.1:${fixture.config.appservice.port}`;
  const FAST_RETRIES = { MAB_DELIVERY_RETRY_BASE_MS: "100", MAB_DELIVERY_RETRY_MAX_MS: "2000" };

  describe.each(["pglite", "postgres"] as const)("SIGKILL on %s", (backend) => {
    let configPath: string;
    let logFile: string;
    let armFile: string;
    let child: BridgeProcess | undefined;
    let human: RawUser;
    let room: string;
    let dropDb: (() => Promise<void>) | undefined;

    /** Kill point, the armed hit that kills, and whether Synapse restarts too. */
    const cases: [FaultPoint, number, boolean][] = [
      ["before-claim-commit", 4, false],
      ["after-claim", 4, false],
      ["before-handle", 6, false],
      ["after-handle", 6, false],
      ["during-send", 6, false],
      ...(backend === "pglite" ? ([["during-send", 6, true]] as [FaultPoint, number, boolean][]) : []),
    ];

    function start(armed?: { point: FaultPoint; after: number }): Promise<void> {
      child = spawnBridge({
        configPath,
        logFile,
        env: {
          ...FAST_RETRIES,
          MAB_LOGGING_LEVEL: "info",
          MAB_FAULT_KILL_AT: armed?.point,
          MAB_FAULT_KILL_AFTER: armed ? String(armed.after) : undefined,
          MAB_FAULT_ARM_FILE: armFile,
        },
      });
      return child.ready();
    }

    beforeAll(async () => {
      const name = `kill-${backend}`;
      if (backend === "postgres") {
        const db = await createPgDatabase();
        dropDb = db.drop;
        configPath = configFile(name, { url: db.url, data_dir: "unused" });
      } else {
        configPath = configFile(name, { data_dir: join(fixture.dir, name) });
      }
      logFile = join(fixture.dir, `${name}.log`);
      armFile = join(fixture.dir, `${name}.armed`);
      await start({ point: cases[0][0], after: cases[0][1] });
      human = await RawUser.register(fixture.synapse, `kill_${backend}`);
      room = await human.openDm();
    });

    afterAll(async () => {
      child?.kill("SIGTERM");
      await child?.exited;
      await dropDb?.();
    });

    it.each(cases.map((c, i) => [...c, i] as const))(
      "kill at %s (hit %d, homeserver restarted: %s): every command answered once, in order",
      async (point, after, restartHomeserver, index) => {
        const tag = `kill${index}-${backend}`;
        const running = child!;
        const firstRecord = proxy.records.length;
        let sending: Promise<unknown>;
        if (!restartHomeserver) {
          writeFileSync(armFile, "");
          sending = human.sendNumbered(room, tag, BURST);
        } else {
          // Synapse keeps events it has not yet put in an appservice transaction in memory only,
          // and loses them when it restarts (element-hq/synapse#11637). So here the bridge first
          // claims every command (its sends slowed at the proxy so that most replies are still
          // pending), and only then is the kill armed.
          proxy.rule = (req) => (req.send?.roomId === room ? { kind: "delay", ms: 300 } : { kind: "pass" });
          const received = async () =>
            metricValues(await (await fetch(`${bridgeUrl()}/metrics`)).text(), "mab_events_received_total")[
              ""
            ] ?? 0;
          const before = await received();
          await human.sendNumbered(room, tag, BURST);
          const deadline = Date.now() + 15_000;
          while ((await received()) < before + BURST && Date.now() < deadline) await sleep(50);
          writeFileSync(armFile, "");
          sending = Promise.resolve();
        }
        const ended = await Promise.race([running.exited, sleep(30_000).then(() => undefined)]);
        await sending;
        rmSync(armFile, { force: true });
        proxy.rule = () => ({ kind: "pass" });
        expect(ended?.signal).toBe("SIGKILL");
        if (restartHomeserver) await fixture.synapse.restart();
        // The restart is also the next case's process (armed for its point, not yet active).
        const next = cases[index + 1];
        await start(next ? { point: next[0], after: next[1] } : undefined);
        const counts = await awaitReplies(human, room, tag, BURST, { timeoutMs: 40_000, settleMs: 1500 });
        // Evidence of what the crash left to recover: events claimed but not handled (queued at
        // the restart), and replies sent again with the transaction id of a send the crash cut off.
        const recovered = /"count":(\d+)[^\n]*Queued events left over/.exec(child!.output());
        const attempts = new Map<string, number>();
        for (const r of proxy.records.slice(firstRecord)) {
          if (r.send && r.send.roomId === room)
            attempts.set(r.send.txnId, (attempts.get(r.send.txnId) ?? 0) + 1);
        }
        reportFault(
          `SIGKILL at ${point}${restartHomeserver ? " + homeserver restart" : ""} (${backend})`,
          restartHomeserver
            ? `SIGKILL at the ${after}th ${point} once all ${BURST} commands were claimed, then Synapse restarted, then the bridge`
            : `SIGKILL at the ${after}th ${point} during a burst of ${BURST} commands, then restart`,
          {
            ...counts,
            recoveredAtRestart: recovered ? Number(recovered[1]) : 0,
            sendsRepeatedWithSameTxnId: [...attempts.values()].filter((n) => n > 1).length,
          },
        );
        expect(counts).toMatchObject({ delivered: BURST, duplicates: 0, lost: 0, inOrder: true });
      },
    );
  });

  it("SIGTERM: 503 for new transactions, in-flight sends finish within the grace period, the rest waits", async () => {
    const dataDir = join(fixture.dir, "term");
    const configPath = configFile("term", { data_dir: dataDir });
    const logFile = join(fixture.dir, "term.log");
    const spawnWithGrace = async (graceMs: number) => {
      const p = spawnBridge({
        configPath,
        logFile,
        env: { ...FAST_RETRIES, MAB_DELIVERY_SHUTDOWN_GRACE_MS: String(graceMs) },
      });
      await p.ready();
      return p;
    };
    const putTransaction = async () => {
      const res = await fetch(
        `http://127.0.0.1:${fixture.config.appservice.port}/_matrix/app/v1/transactions/term-${randomBytes(4).toString("hex")}`,
        {
          method: "PUT",
          headers: {
            Authorization: `Bearer ${fixture.registration.hs_token}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ events: [] }),
        },
      ).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status;
    };
    const outboxState = async () => {
      const db = await openDatabase({ data_dir: dataDir });
      try {
        // Messages only: the DM's filing in the person's space is an outbox row (an intent) too.
        const rows = (await db
          .knex("outbox")
          .where({ room_id: room })
          .andWhere("event_type", "not like", "mab.intent.%")
          .select("status")) as {
          status: string;
        }[];
        const claimed = (await db
          .knex("inbound_events")
          .where({ status: "claimed" })
          .count({ n: "*" })
          .first()) as {
          n: string;
        };
        return {
          sent: rows.filter((r) => r.status === "sent").length,
          pending: rows.filter((r) => r.status === "pending").length,
          claimed: Number(claimed.n),
        };
      } finally {
        await db.close();
      }
    };

    let child = await spawnWithGrace(5000);
    const human = await RawUser.register(fixture.synapse, "term");
    const room = await human.openDm();
    const greetings = 1;
    try {
      // Phase 1: sends are slow (800 ms each at the proxy), so a backlog builds up and a send
      // is in flight when SIGTERM arrives (long enough to probe the server on a busy machine).
      proxy.rule = (req) => (req.send?.roomId === room ? { kind: "delay", ms: 800 } : { kind: "pass" });
      const n = 15;
      await human.sendNumbered(room, "term", n);
      await human.waitFor(room, (events) => countReplies(events, "term", n).delivered >= 3, 20_000);
      child.kill("SIGTERM");
      const t0 = Date.now();
      await sleep(30);
      const during = await putTransaction();
      const exit = await child.exited;
      const stopMs = Date.now() - t0;
      const left = await outboxState();
      const deliveredAtStop = countReplies(await human.timeline(room), "term", n).delivered;
      proxy.rule = () => ({ kind: "pass" });

      child = await spawnWithGrace(1000);
      const counts = await awaitReplies(human, room, "term", n);
      reportFault(
        "SIGTERM, graceful stop (pglite)",
        `SIGTERM with ${n} replies queued, sends slowed to 800 ms, grace 5 s`,
        {
          ...counts,
          answeredDuringStop: during,
          exitCode: exit.code,
          stopMs,
          deliveredAtStop,
          sentRowsAtStop: left.sent - greetings,
          pendingRowsAtStop: left.pending,
        },
      );
      expect(during).toBe(503);
      expect(exit.code).toBe(0);
      expect(stopMs).toBeLessThan(5000);
      // Every reply that reached the room was recorded as sent (the in-flight send finished and
      // was marked); the others were still in the outbox.
      expect(left.sent - greetings).toBe(deliveredAtStop);
      expect(left.pending).toBe(n - deliveredAtStop);
      expect(left.pending).toBeGreaterThan(0);
      expect(counts).toMatchObject({ delivered: n, duplicates: 0, lost: 0, inOrder: true });

      // Phase 2: a send outlives the 1 s grace period (the proxy holds it 3 s, then passes it on):
      // the bridge exits anyway; the next start re-sends it with the same transaction id.
      let held = 0;
      proxy.rule = (req) =>
        req.send?.roomId === room && held++ === 0 ? { kind: "delay", ms: 3000 } : { kind: "pass" };
      await human.sendNumbered(room, "late", 3);
      const deadline = Date.now() + 10_000;
      while (held === 0 && Date.now() < deadline) await sleep(20);
      child.kill("SIGTERM");
      const t1 = Date.now();
      const exit2 = await child.exited;
      const stop2Ms = Date.now() - t1;
      await sleep(3000); // the held request reaches Synapse now
      proxy.rule = () => ({ kind: "pass" });
      child = await spawnWithGrace(1000);
      const late = await awaitReplies(human, room, "late", 3);
      reportFault(
        "SIGTERM, send outlives the grace period (pglite)",
        "send held 3 s at the proxy, grace 1 s",
        {
          ...late,
          exitCode: exit2.code,
          stopMs: stop2Ms,
        },
      );
      expect(exit2.code).toBe(0);
      expect(stop2Ms).toBeLessThan(2500);
      expect(late).toMatchObject({ delivered: 3, duplicates: 0, lost: 0, inOrder: true });
    } finally {
      proxy.rule = () => ({ kind: "pass" });
      child.kill("SIGTERM");
      await child.exited;
    }
  });
});
