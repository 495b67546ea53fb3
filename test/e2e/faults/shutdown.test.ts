/**
 * SIGTERM during a scheduler pass, with the bridge in a child process on a real Synapse.
 *
 * 120 timers fall due while the bridge is stopped, so the next start fires them in one long pass.
 * SIGTERM arrives as soon as the first has fired (its log line): the process must exit within
 * delivery.shutdown_grace_ms (it used to finish the pass and then sleep up to 60 s), and the
 * timers not yet fired ring after the next start — each exactly once.
 */
import { join } from "node:path";
import { BridgeFixture } from "../../harness/bridgeFixture";
import { killAllBridges, spawnBridge, writeConfigFile } from "../../harness/bridgeProcess";
import { RawUser, reportFault, type TimelineEvent } from "../../harness/faultKit";

const TIMER = "@_agent_timer:localhost";
const N = 120;
const GRACE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Timer numbers rung so far, in timeline order (with repeats). */
function rung(events: TimelineEvent[]): number[] {
  const out: number[] = [];
  for (const e of events) {
    if (e.sender !== TIMER || e.type !== "m.room.message") continue;
    const m = /timer \**tm(\d+)\** .*is done/.exec(String(e.content.body ?? ""));
    if (m) out.push(Number(m[1]));
  }
  return out;
}

describe("SIGTERM during a scheduler pass (bridge in a child process)", () => {
  let fixture: BridgeFixture;
  beforeAll(async () => {
    fixture = await BridgeFixture.create({ config: { bridge: { command_rate_per_minute: 100_000 } } });
  });
  afterAll(async () => {
    killAllBridges();
    await fixture?.close();
  });

  it("exits within the grace period; the timers not fired ring after the next start, once each", async () => {
    const configPath = join(fixture.dir, "shutdown.yaml");
    writeConfigFile(configPath, {
      ...fixture.config,
      database: { ...fixture.config.database, data_dir: join(fixture.dir, "shutdown-data") },
    });
    const logFile = join(fixture.dir, "shutdown.log");
    // Info logs: the test watches for the first "Timer rang" line to send SIGTERM mid-pass.
    const env = { MAB_DELIVERY_SHUTDOWN_GRACE_MS: String(GRACE_MS), MAB_LOGGING_LEVEL: "info" };
    const human = await RawUser.register(fixture.synapse, "sched");

    let child = spawnBridge({ configPath, logFile, env });
    await child.ready();
    const room = await human.openDm(TIMER);
    for (let i = 1; i <= N; i++) await human.send(room, `45s tm${i}`);
    await human.waitFor(
      room,
      (events) =>
        events.filter((e) => e.sender === TIMER && String(e.content.body ?? "").includes("tm")).length >= N,
      60_000,
    );
    child.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);
    await sleep(46_000); // every timer is now due

    child = spawnBridge({ configPath, logFile, env });
    await child.ready();
    const deadline = Date.now() + 30_000;
    while (!child.output().includes("Timer rang") && Date.now() < deadline) await sleep(5);
    const t0 = Date.now();
    child.kill("SIGTERM");
    const exit = await child.exited;
    const stopMs = Date.now() - t0;
    const firedBefore = new Set(rung(await human.timeline(room))).size;

    child = spawnBridge({ configPath, logFile, env });
    await child.ready();
    const events = await human.waitFor(room, (ev) => new Set(rung(ev)).size === N, 60_000);
    await sleep(1000);
    const all = rung(await human.timeline(room));
    child.kill("SIGTERM");
    await child.exited;
    const counts = {
      stopMs,
      graceMs: GRACE_MS,
      firedBeforeStop: firedBefore,
      rung: new Set(all).size,
      duplicates: all.length - new Set(all).size,
    };
    reportFault(
      "SIGTERM during a scheduler pass",
      `${N} timers due at start, SIGTERM at the first ring`,
      counts,
    );
    expect(exit.code).toBe(0);
    // The grace period bounds the sends in flight; the scheduler adds at most the item in hand.
    expect(stopMs).toBeLessThan(GRACE_MS + 2000);
    expect(firedBefore).toBeLessThan(N); // the pass really was interrupted
    expect(events.length).toBeGreaterThan(0);
    expect(counts).toMatchObject({ rung: N, duplicates: 0 });
  }, 240_000);
});
