/**
 * SIGTERM during a scheduler pass, with the bridge in a child process on a real Synapse.
 *
 * N timers are set, the bridge is stopped, and their items are made due in the database (as if the
 * bridge had been down while they ended), so the next start fires them all in one pass. SIGTERM
 * arrives as soon as the first has fired (its log line): the process must exit within
 * delivery.shutdown_grace_ms (it used to finish the pass and then sleep up to 60 s), leaving the
 * rest due; after the next start every timer has rung exactly once.
 */
import { join } from "node:path";
import { BridgeFixture } from "../../harness/bridgeFixture";
import { killAllBridges, spawnBridge, writeConfigFile } from "../../harness/bridgeProcess";
import { RawUser, reportFault, type TimelineEvent } from "../../harness/faultKit";
import { openDatabase } from "../../../src/store/database";

const TIMER = "@_agent_timer:localhost";
const N = 60;
const GRACE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const body = (e: TimelineEvent) => (e.sender === TIMER ? String(e.content.body ?? "") : "");
/** Timer numbers rung so far, in timeline order (with repeats). */
function rung(events: TimelineEvent[]): number[] {
  const out: number[] = [];
  for (const e of events) {
    const m = /timer \**tm(\d+)\** .*is done/.exec(body(e));
    if (m) out.push(Number(m[1]));
  }
  return out;
}

describe("SIGTERM during a scheduler pass (bridge in a child process)", () => {
  let fixture: BridgeFixture;
  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: {
        bridge: { command_rate_per_minute: 100_000 },
        agents: { timer: { max_timers_per_user: 100 } },
      },
    });
  });
  afterAll(async () => {
    killAllBridges();
    await fixture?.close();
  });

  it("exits within the grace period; the timers not fired ring after the next start, once each", async () => {
    const dataDir = join(fixture.dir, "shutdown-data");
    const configPath = join(fixture.dir, "shutdown.yaml");
    writeConfigFile(configPath, {
      ...fixture.config,
      database: { ...fixture.config.database, data_dir: dataDir },
    });
    const logFile = join(fixture.dir, "shutdown.log");
    // The timer agent besides echo; info logs, so the test sees the first "Timer rang" line.
    const env = {
      MAB_DELIVERY_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      MAB_LOGGING_LEVEL: "info",
      MAB_TEST_WITH_TIMER: "1",
    };
    const pendingItems = async (makeDue: boolean) => {
      const db = await openDatabase({ data_dir: dataDir });
      try {
        const q = () => db.knex("scheduled_items").where({ status: "pending", agent_id: "timer" });
        if (makeDue) await q().update({ due_at: new Date(Date.now() - 1000) });
        return Number(((await q().count({ n: "*" }).first()) as { n: string | number }).n);
      } finally {
        await db.close();
      }
    };
    const human = await RawUser.register(fixture.synapse, "sched");

    let child = spawnBridge({ configPath, logFile, env });
    await child.ready();
    const room = await human.openDm(TIMER);
    for (let i = 1; i <= N; i++) await human.send(room, `1h tm${i}`);
    const confirmed = (events: TimelineEvent[]) =>
      events.filter((e) => /Timer \**tm\d+\** set for/.test(body(e)));
    expect(
      confirmed(await human.waitFor(room, (events) => confirmed(events).length >= N, 90_000)),
    ).toHaveLength(N);
    child.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);
    const due = await pendingItems(true); // every timer ends "while the bridge was down"

    child = spawnBridge({ configPath, logFile, env });
    await child.ready();
    const deadline = Date.now() + 30_000;
    while (!child.output().includes("Timer rang") && Date.now() < deadline) await sleep(5);
    const t0 = Date.now();
    child.kill("SIGTERM");
    const exit = await child.exited;
    const stopMs = Date.now() - t0;
    const leftDue = await pendingItems(false);

    child = spawnBridge({ configPath, logFile, env });
    await child.ready();
    await human.waitFor(room, (ev) => new Set(rung(ev)).size === N, 60_000);
    await sleep(1000);
    const all = rung(await human.timeline(room));
    child.kill("SIGTERM");
    await child.exited;
    const counts = {
      due,
      stopMs,
      graceMs: GRACE_MS,
      leftDueAfterStop: leftDue,
      rung: new Set(all).size,
      duplicates: all.length - new Set(all).size,
    };
    reportFault(
      "SIGTERM during a scheduler pass",
      `${N} timers due at start, SIGTERM at the first firing`,
      counts,
    );
    expect(due).toBe(N);
    expect(exit.code).toBe(0);
    // The grace period bounds the sends in flight; the scheduler adds at most the item in hand.
    expect(stopMs).toBeLessThan(GRACE_MS + 2000);
    expect(leftDue).toBeGreaterThan(0); // the pass really was interrupted
    expect(counts).toMatchObject({ rung: N, duplicates: 0 });
  }, 240_000);
});
