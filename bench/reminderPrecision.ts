/**
 * Firing precision of the Reminders agent on a real Synapse: N reminders (default 200) due
 * within one minute, spread over R rooms; for each, the delay from its due time to the
 * delivered event's origin_server_ts (the homeserver's clock, same machine). Also splits the
 * delay into "scheduler" (due → the agent ran) and "send" (agent ran → homeserver stamped it).
 *
 * Run (about 2 minutes; not part of the test suite):
 *   node -r ./test/harness/tsHook.js bench/reminderPrecision.ts
 * or compiled:
 *   npx tsc --outDir dist --rootDir . --module node16 --moduleResolution node16 --target es2023 \
 *     --esModuleInterop --skipLibCheck --resolveJsonModule bench/reminderPrecision.ts
 *   node dist/bench/reminderPrecision.js
 *
 * Scenarios: "burst" (30 reminders due at one instant in one room) and "spread" (200 due within
 * one minute across 20 rooms), each on a fresh bridge and database. Knobs (environment):
 * MAB_BENCH_SCENARIOS (burst,spread), or one custom scenario with MAB_BENCH_REMINDERS,
 * MAB_BENCH_ROOMS and MAB_BENCH_WINDOW_MS (0 = all due at the same instant); MAB_BENCH_DB_URL
 * (postgres://…; default the embedded database). Prints one JSON object on one line of stdout;
 * progress and every log line (the bridge's and its library's) go to stderr.
 *
 * The reminders are written straight into the agent's store and the scheduler's table while the
 * bridge is stopped (as if set earlier), then the bridge starts and fires them: the scheduler
 * reads the earliest due time at start, so nothing has to poke its private loop.
 */
import { BridgeFixture } from "../test/harness/bridgeFixture";
import { openDatabase } from "../src/store/database";
import { ScheduleStore } from "../src/store/scheduleStore";
import { ReminderStore } from "../src/agents/reminders/store";
import { agentUserId } from "../src/config/bridgeConfig";
import { configureLogging } from "../src/logging/logger";
import pino from "pino";

interface Scenario {
  name: string;
  count: number;
  rooms: number;
  windowMs: number;
}

const SCENARIOS: Record<string, Scenario> = {
  burst: { name: "burst", count: 30, rooms: 1, windowMs: 0 },
  spread: { name: "spread", count: 200, rooms: 20, windowMs: 60_000 },
};

function scenarios(): Scenario[] {
  const env = process.env;
  if (env.MAB_BENCH_REMINDERS || env.MAB_BENCH_ROOMS || env.MAB_BENCH_WINDOW_MS) {
    return [
      {
        name: "custom",
        count: Number(env.MAB_BENCH_REMINDERS ?? 200),
        rooms: Number(env.MAB_BENCH_ROOMS ?? 20),
        windowMs: Number(env.MAB_BENCH_WINDOW_MS ?? 60_000),
      },
    ];
  }
  return (env.MAB_BENCH_SCENARIOS ?? "burst,spread").split(",").map((name) => {
    const s = SCENARIOS[name.trim()];
    if (!s) throw new Error(`MAB_BENCH_SCENARIOS: unknown scenario '${name}' (burst, spread)`);
    return s;
  });
}
/** Time from writing the reminders to the first due time (covers the bridge's start). */
const LEAD_MS = 15_000;

const say = (line: string) => process.stderr.write(`[reminder-precision] ${line}\n`);

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return {
    n: sorted.length,
    min: sorted[0],
    median,
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1],
  };
}

async function measure(sc: Scenario) {
  const COUNT = sc.count;
  const ROOMS = sc.rooms;
  const WINDOW_MS = sc.windowMs;
  const fixture = await BridgeFixture.create({
    databaseUrl: process.env.MAB_BENCH_DB_URL,
    config: { bridge: { command_rate_per_minute: 1_000_000 } },
    logLevel: process.env.MAB_BENCH_LOG_LEVEL ?? "error",
  });
  // stdout carries the result only: the bridge's logs (and the library's, routed through them,
  // such as "Error registering user: User ID is in use") go to stderr.
  configureLogging(
    { level: fixture.config.logging.level, format: "json" },
    pino.destination({ fd: 2, sync: true }),
  );
  try {
    const agent = agentUserId(fixture.config, "reminders");
    let bridge = await fixture.startBridge();
    say(`bridge up; opening ${ROOMS} DM rooms with ${agent}`);
    const rooms: { roomId: string; owner: string }[] = [];
    for (let i = 0; i < ROOMS; i++) {
      const owner = (await fixture.synapse.registerUser(`bench-${i}`, `pw-${i}-${Date.now()}`)).userId;
      rooms.push({ roomId: await bridge.openDm("reminders", owner), owner });
    }
    await bridge.settled();
    await fixture.stopBridge();

    // Write the reminders as if they had been set earlier, due within WINDOW_MS.
    const db = await openDatabase(fixture.config.database);
    const dialect = db.dialect;
    const first = Date.now() + LEAD_MS;
    const due = new Map<string, number>();
    await db.knex.transaction(async (trx) => {
      const store = new ReminderStore(trx);
      const schedules = new ScheduleStore(db.knex);
      for (let i = 0; i < COUNT; i++) {
        const { roomId, owner } = rooms[i % rooms.length];
        const at = new Date(first + (COUNT > 1 ? Math.round((i * WINDOW_MS) / (COUNT - 1)) : 0));
        const r = await store.create({
          owner,
          roomId,
          message: `bench ${i}`,
          mentionRoom: false,
          zone: "UTC",
          nextDueAt: at,
        });
        await store.setItem(r.id, await schedules.add(trx, "reminders", at, { reminderId: r.id }));
        due.set(r.id, at.getTime());
      }
    });
    await db.close();
    say(`${COUNT} reminders written, due from ${new Date(first).toISOString()} over ${WINDOW_MS} ms`);

    bridge = await fixture.startBridge();
    const lastDue = first + WINDOW_MS;
    while (Date.now() < lastDue + 2_000) await new Promise((r) => setTimeout(r, 500));
    const knex = bridge.database.knex;
    for (let i = 0; i < 120; i++) {
      const left = await knex("reminders").where({ status: "active" }).count({ n: "*" }).first();
      if (Number(left?.n ?? 0) === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await bridge.settled(60_000);

    const rows = (await knex("reminder_messages as m")
      .join("outbox as o", "o.id", "m.outbox_id")
      .join("reminders as r", "r.id", "m.reminder_id")
      .where({ "m.kind": "delivery" })
      .select("r.id", "r.room_id", "r.last_fired_at", "o.sent_event_id", "o.status")) as {
      id: string;
      room_id: string;
      last_fired_at: Date | string;
      sent_event_id: string | null;
      status: string;
    }[];
    const total: number[] = [];
    const scheduler: number[] = [];
    const send: number[] = [];
    for (const row of rows) {
      if (!row.sent_event_id) throw new Error(`reminder ${row.id} was not sent (${row.status})`);
      const event = await bridge.homeserver.request<{ origin_server_ts: number }>(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(row.room_id)}/event/${encodeURIComponent(row.sent_event_id)}`,
        { userId: agent },
      );
      const dueAt = due.get(row.id)!;
      const fired = new Date(row.last_fired_at).getTime();
      total.push(event.origin_server_ts - dueAt);
      scheduler.push(fired - dueAt);
      send.push(event.origin_server_ts - fired);
    }
    if (rows.length !== COUNT) throw new Error(`expected ${COUNT} deliveries, found ${rows.length}`);
    return {
      scenario: sc.name,
      reminders: COUNT,
      rooms: ROOMS,
      windowMs: WINDOW_MS,
      database: dialect,
      delayMs: stats(total),
      schedulerMs: stats(scheduler),
      sendMs: stats(send),
    };
  } finally {
    await fixture.close();
  }
}

async function main(): Promise<void> {
  const results = [];
  for (const sc of scenarios()) {
    say(`scenario ${sc.name}: ${sc.count} reminders, ${sc.rooms} room(s), window ${sc.windowMs} ms`);
    results.push(await measure(sc));
  }
  const byName = Object.fromEntries(results.map((r) => [r.scenario, r]));
  process.stdout.write(`${JSON.stringify({ benchmark: "reminder precision", scenarios: byName })}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
