/**
 * Outbound throughput: messages per second delivered to a real Synapse across 1, 10 and 100
 * rooms, through the durable queue (outbox rows written in one transaction, delivered by
 * OutboxWorker with the bridge's own settings) against direct sends with no queue (PUT
 * /send with the as_token, each room in order, at the worker's concurrency and unbounded).
 * Runs are interleaved per repetition.
 */
import http from "node:http";
import { randomUUID } from "node:crypto";
import PQueue from "p-queue";
import { HomeserverClient } from "../src/appservice/homeserverClient";
import { botUserId } from "../src/config/bridgeConfig";
import { openDatabase, type Database } from "../src/store/database";
import { migrate } from "../src/store/migrations";
import { Outbox } from "../src/store/outbox";
import { OutboxWorker } from "../src/queue/outboxWorker";
import type { BenchEnv, Slot } from "./lib/env";
import { say } from "./lib/log";
import { median, pairedRatio, round } from "./lib/stats";

export interface OutboundProfile {
  reps: number;
  roomCounts: number[];
  /** Messages per run (spread round robin over the rooms). */
  messages: number;
  /** Also run the queue on PostgreSQL (database url), next to the embedded database. */
  postgresUrl?: string;
  /** Run the queue on the embedded database (default true). */
  embedded?: boolean;
}

/** What AgentBridge gives its worker by default (src/appservice/agentBridge.ts, the delivery section). */
const WORKER_OPTIONS = { concurrency: 8, backoff: { baseMs: 500, maxMs: 60_000 }, idlePollMs: 5_000 };
const DEVICE_ID = "BENCH_OUTBOUND";

export type OutboundMode =
  "queue-sqlite" | "queue-pglite" | "queue-postgres" | "direct-8" | "direct-unbounded";

export interface OutboundResult {
  profile: Omit<OutboundProfile, "postgresUrl" | "embedded">;
  /** Device every mode sent from (undefined: the homeserver refused to make one). */
  device?: string;
  samples: { mode: OutboundMode; rooms: number; rep: number; messagesPerSecond: number }[];
  table: {
    rooms: number;
    mode: OutboundMode;
    messagesPerSecond: number;
    /** Median over repetitions of this mode / direct-8 (paired within a repetition). */
    ratioToDirect?: number;
  }[];
}

/** Synapse pushes our own sends back to the appservice: a sink answers like a healthy bridge. */
function startSink(port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function content(i: number) {
  return { msgtype: "m.notice", body: `outbound benchmark message ${i}` };
}

class QueueTarget {
  private sent = 0;
  private waiter?: { target: number; resolve(): void };
  readonly outbox: Outbox;
  readonly worker: OutboxWorker;

  constructor(
    readonly db: Database,
    client: HomeserverClient,
    device: string | undefined,
  ) {
    this.outbox = new Outbox(db.knex);
    // As AgentBridge sets it up; on PostgreSQL it also takes a per-room lock around each send.
    const options = {
      ...WORKER_OPTIONS,
      deviceFor: () => device,
      exclusiveRooms: db.dialect === "postgres",
    };
    this.worker = new OutboxWorker(this.outbox, client, options, {
      sent: () => {
        this.sent++;
        if (this.waiter && this.sent >= this.waiter.target) this.waiter.resolve();
      },
      parked: (_row, reason) => say(`outbound: a message was parked (${reason})`),
    });
    this.worker.start();
  }

  /** Writes the rows (one transaction, as an event's replies would be) and waits until all are sent. */
  async run(rooms: readonly string[], messages: number, sender: string): Promise<void> {
    const target = this.sent + messages;
    const done = new Promise<void>((resolve) => (this.waiter = { target, resolve }));
    await this.db.knex.transaction(async (trx) => {
      for (let i = 0; i < messages; i++) {
        await this.outbox.enqueue(trx, {
          roomId: rooms[i % rooms.length],
          sender,
          type: "m.room.message",
          content: content(i),
        });
      }
    });
    this.worker.kick();
    await done;
  }

  async close(): Promise<void> {
    await this.worker.stop(10_000);
    await this.db.close();
  }
}

async function direct(
  client: HomeserverClient,
  rooms: readonly string[],
  messages: number,
  sender: string,
  device: string | undefined,
  concurrency: number,
): Promise<void> {
  const perRoom = new Map<string, number[]>();
  for (let i = 0; i < messages; i++) {
    const room = rooms[i % rooms.length];
    perRoom.set(room, [...(perRoom.get(room) ?? []), i]);
  }
  const queue = new PQueue({ concurrency });
  for (const [room, items] of perRoom) {
    void queue.add(async () => {
      for (const i of items)
        await client.sendEvent(room, "m.room.message", randomUUID(), content(i), sender, device);
    });
  }
  await queue.onIdle();
}

export async function runOutbound(env: BenchEnv, profile: OutboundProfile): Promise<OutboundResult> {
  const slot: Slot = env.slot("outbound");
  const sink = await startSink(slot.port);
  const client = new HomeserverClient(env.synapse.baseUrl, slot.registration.as_token);
  const sender = botUserId(slot.config);
  const queues = new Map<OutboundMode, QueueTarget>();
  let device: string | undefined;
  try {
    // A fixed device, as the bridge sends (the homeserver then keeps transaction ids for 24 h);
    // every mode sends from it, so the comparison isolates the queue.
    try {
      await client.request("PUT", `/_matrix/client/v3/devices/${DEVICE_ID}`, {
        userId: sender,
        body: { display_name: "outbound benchmark" },
      });
      device = DEVICE_ID;
    } catch (err) {
      say(`outbound: no device (${(err as Error).message}); sending without one`);
    }
    if (profile.embedded !== false) {
      // The embedded default (results before it was SQLite have "queue-pglite" rows).
      const embedded = await openDatabase({ data_dir: slot.config.database.data_dir, engine: "sqlite" });
      await migrate(embedded);
      queues.set("queue-sqlite", new QueueTarget(embedded, client, device));
    }
    if (profile.postgresUrl) {
      const pg = await openDatabase({ url: profile.postgresUrl, data_dir: "unused" });
      await migrate(pg);
      queues.set("queue-postgres", new QueueTarget(pg, client, device));
    }
    const maxRooms = Math.max(...profile.roomCounts);
    say(`outbound: creating ${maxRooms} rooms`);
    const rooms: string[] = [];
    const creating = new PQueue({ concurrency: 8 });
    for (let i = 0; i < maxRooms; i++) {
      void creating.add(async () => {
        const res = await client.request<{ room_id: string }>("POST", "/_matrix/client/v3/createRoom", {
          body: { preset: "private_chat", name: `outbound ${i}` },
          userId: sender,
        });
        rooms.push(res.room_id);
      });
    }
    await creating.onIdle();
    if (rooms.length !== maxRooms) throw new Error(`outbound: created ${rooms.length} of ${maxRooms} rooms`);
    const modes: OutboundMode[] = [...queues.keys(), "direct-8", "direct-unbounded"];
    // Warm-up: connections, JIT, Synapse caches for these rooms.
    for (const mode of modes) await runMode(mode, rooms.slice(0, 10), 20);

    const samples: OutboundResult["samples"] = [];
    for (let rep = 0; rep < profile.reps; rep++) {
      for (const n of profile.roomCounts) {
        const order = modes.map((_, i) => modes[(i + rep) % modes.length]);
        for (const mode of order) {
          // Unbounded differs from 8 at a time only with many rooms.
          if (mode === "direct-unbounded" && n < 50) continue;
          const t0 = performance.now();
          await runMode(mode, rooms.slice(0, n), profile.messages);
          const seconds = (performance.now() - t0) / 1000;
          const sample = { mode, rooms: n, rep, messagesPerSecond: round(profile.messages / seconds, 1) };
          samples.push(sample);
          say(
            `outbound rep ${rep + 1}/${profile.reps} ${n} rooms ${mode}: ${sample.messagesPerSecond} msg/s`,
          );
        }
      }
    }
    const table: OutboundResult["table"] = [];
    for (const n of profile.roomCounts) {
      const of = (mode: OutboundMode) =>
        samples.filter((s) => s.mode === mode && s.rooms === n).sort((a, b) => a.rep - b.rep);
      for (const mode of modes) {
        const runs = of(mode);
        if (runs.length === 0) continue;
        table.push({
          rooms: n,
          mode,
          messagesPerSecond: round(median(runs.map((s) => s.messagesPerSecond)), 1),
          ...(mode === "direct-8"
            ? {}
            : {
                ratioToDirect: pairedRatio(
                  runs.map((s) => s.messagesPerSecond),
                  of("direct-8").map((s) => s.messagesPerSecond),
                ),
              }),
        });
      }
    }
    const { postgresUrl: _unused, embedded: _embedded, ...shown } = profile;
    return { profile: shown, device, samples, table };
  } finally {
    for (const q of queues.values()) await q.close().catch(() => undefined);
    await new Promise<void>((resolve) => {
      sink.closeAllConnections();
      sink.close(() => resolve());
    });
  }

  async function runMode(mode: OutboundMode, rooms: string[], messages: number): Promise<void> {
    const queue = queues.get(mode);
    if (queue) return queue.run(rooms, messages, sender);
    const concurrency = mode === "direct-8" ? WORKER_OPTIONS.concurrency : Infinity;
    return direct(client, rooms, messages, sender, device, concurrency);
  }
}
