/**
 * Outbound throughput: the durable queue (outbox row committed, then delivered by the OutboxWorker
 * with per-room FIFO) against plain direct sends (PUT …/send with our own transaction id, no
 * database), to a real Synapse, across 10 rooms. Each mode runs 3 times (alternating); the result
 * is the median messages per second of each and their ratio. Prints one JSON object.
 *
 *   node -r ./test/harness/tsHook.js bench/outboundThroughput.ts
 *
 * Environment: MAB_BENCH_MESSAGES (per room, default 30), MAB_BENCH_ROOMS (default 10),
 * MAB_BENCH_RUNS (default 3), MAB_BENCH_DATABASE_URL (postgres://… for PostgreSQL; default the
 * embedded PGlite database, in memory). Both modes send from the same fixed device, as the bridge
 * does, and keep each room's messages in order (one request in flight per room).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { parseConfig } from "../src/config/bridgeConfig";
import { buildRegistration, writeRegistration } from "../src/appservice/registration";
import { HomeserverClient } from "../src/appservice/homeserverClient";
import { configureLogging } from "../src/logging/logger";
import { openDatabase, type Database } from "../src/store/database";
import { migrate } from "../src/store/migrations";
import { Outbox } from "../src/store/outbox";
import { OutboxWorker } from "../src/queue/outboxWorker";
import { startSynapse, type SynapseHandle } from "../test/harness/synapse";

const ROOMS = Number(process.env.MAB_BENCH_ROOMS ?? 10);
const PER_ROOM = Number(process.env.MAB_BENCH_MESSAGES ?? 30);
const RUNS = Number(process.env.MAB_BENCH_RUNS ?? 3);
const DATABASE_URL = process.env.MAB_BENCH_DATABASE_URL || undefined;
const DEVICE = "MATRIX_AGENT_BRIDGE";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;

async function setUp(synapse: SynapseHandle, client: HomeserverClient, userId: string): Promise<string[]> {
  await client
    .request("POST", "/_matrix/client/v3/register", {
      body: {
        type: "m.login.application_service",
        username: userId.slice(1).split(":")[0],
        inhibit_login: true,
      },
    })
    .catch(() => undefined); // M_USER_IN_USE is fine
  await client.request("PUT", `/_matrix/client/v3/devices/${DEVICE}`, {
    userId,
    body: { display_name: "bench" },
  });
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) {
    const res = await client.request<{ room_id: string }>("POST", "/_matrix/client/v3/createRoom", {
      userId,
      body: { name: `bench ${i}`, preset: "private_chat" },
    });
    rooms.push(res.room_id);
  }
  void synapse;
  return rooms;
}

function content(mode: string, run: number, room: number, i: number) {
  return { msgtype: "m.notice", body: `${mode} run ${run} room ${room} message ${i}` };
}

/** PUT each message directly, rooms in parallel, one request in flight per room. */
async function direct(
  client: HomeserverClient,
  userId: string,
  rooms: string[],
  run: number,
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    rooms.map(async (roomId, r) => {
      for (let i = 0; i < PER_ROOM; i++) {
        await client.sendEvent(
          roomId,
          "m.room.message",
          randomUUID(),
          content("direct", run, r, i),
          userId,
          DEVICE,
        );
      }
    }),
  );
  return performance.now() - started;
}

/**
 * Each message committed to the outbox in its own transaction (as an event handler does), the
 * worker delivering as rows appear; timed until the outbox is empty.
 */
async function durable(
  db: Database,
  client: HomeserverClient,
  userId: string,
  rooms: string[],
  run: number,
): Promise<number> {
  const outbox = new Outbox(db.knex);
  const worker = new OutboxWorker(outbox, client, {
    concurrency: ROOMS,
    backoff: { baseMs: 100, maxMs: 2000 },
    idlePollMs: 1000,
    deviceFor: () => DEVICE,
    exclusiveRooms: db.dialect === "postgres",
  });
  worker.start();
  const started = performance.now();
  for (let i = 0; i < PER_ROOM; i++) {
    for (let r = 0; r < rooms.length; r++) {
      await db.knex.transaction((trx) =>
        outbox.enqueue(trx, {
          roomId: rooms[r],
          sender: userId,
          type: "m.room.message",
          content: content("durable", run, r, i),
        }),
      );
      worker.kick();
    }
  }
  await worker.drained(300_000);
  const ms = performance.now() - started;
  await worker.stop(1000);
  return ms;
}

async function main(): Promise<void> {
  configureLogging({ level: "silent", format: "json" });
  const dir = mkdtempSync(join(tmpdir(), "mab-bench-"));
  const registrationPath = join(dir, "registration.yaml");
  const config = parseConfig({
    homeserver: { url: "http://127.0.0.1:1", domain: "localhost" },
    appservice: { port: 9, url: "http://127.0.0.1:9", registration: registrationPath },
  });
  const registration = buildRegistration(config);
  writeRegistration(registrationPath, registration);
  const synapse = await startSynapse({ registrationPaths: [registrationPath] });
  const db = await openDatabase({ url: DATABASE_URL, data_dir: ":memory:" });
  try {
    await migrate(db);
    const client = new HomeserverClient(synapse.baseUrl, registration.as_token);
    const userId = "@_agent_bench:localhost";
    const rooms = await setUp(synapse, client, userId);
    const total = ROOMS * PER_ROOM;
    // Warm-up of both paths (connections, Synapse and database caches), not measured.
    await direct(client, userId, rooms, -1);
    await durable(db, client, userId, rooms, -1);
    const directRates: number[] = [];
    const durableRates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      directRates.push(total / ((await direct(client, userId, rooms, run)) / 1000));
      durableRates.push(total / ((await durable(db, client, userId, rooms, run)) / 1000));
    }
    const d = median(directRates);
    const q = median(durableRates);
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: "outbound throughput",
          homeserver: "Synapse (SQLite, local)",
          database: db.dialect,
          rooms: ROOMS,
          messagesPerRun: total,
          runs: RUNS,
          direct: { messagesPerSecond: directRates.map(round), median: round(d) },
          durable: { messagesPerSecond: durableRates.map(round), median: round(q) },
          ratio: Math.round((q / d) * 1000) / 1000,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await db.close();
    await synapse.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
