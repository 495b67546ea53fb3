/**
 * A bridge under load, in its own process (as in production, where the homeserver is another
 * process): either our AgentBridge with the no-op agent, or a bare matrix-appservice-bridge
 * `Bridge` with a no-op onEvent. The benchmark process drives it over IPC (see lib/target.ts)
 * and posts transactions to it over loopback HTTP, as Synapse would.
 */
// First: the heap setting of bin/matrix-agent-bridge.js, before any module loads.
import "./lib/leanHeapFirst";
import type { Bridge } from "matrix-appservice-bridge";
import { AgentBridge } from "../src/appservice/agentBridge";
import { parseConfig } from "../src/config/bridgeConfig";
import { configureLogging, type LoggingOptions } from "../src/logging/logger";
import { RoomStore } from "../src/store/roomStore";
import { ScheduleStore } from "../src/store/scheduleStore";
import type { Registration } from "../src/appservice/registration";
import { AGENT_DEFINITIONS } from "../src/agents/registry";
import { noopAgent, noopCounter, NOOP_AGENT_ID } from "./lib/noopAgent";
import type { TargetRequest, TargetSpec } from "./lib/target";

let ours: AgentBridge | undefined;
let bare: Bridge | undefined;
let bareEvents = 0;

async function start(spec: TargetSpec): Promise<{ port: number }> {
  const config = parseConfig(spec.raw, {});
  configureLogging({
    level: config.logging.level,
    format: config.logging.format as LoggingOptions["format"],
  });
  if (spec.kind === "ours") {
    ours = new AgentBridge(config, {
      registration: spec.registration as Registration,
      definitions: spec.agents === "registry" ? AGENT_DEFINITIONS : [noopAgent],
    });
    await ours.start();
    return { port: ours.port };
  }
  // Only the reference loads the library (as in production, where only generate-registration does).
  const { AppServiceRegistration, Bridge } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("matrix-appservice-bridge") as typeof import("matrix-appservice-bridge");
  bare = new Bridge({
    homeserverUrl: config.homeserver.url,
    domain: config.homeserver.domain,
    registration: AppServiceRegistration.fromObject(spec.registration as never),
    disableStores: true,
    controller: {
      onEvent: () => {
        bareEvents++;
      },
    },
  });
  await bare.run(config.appservice.port, undefined, "127.0.0.1");
  return { port: config.appservice.port };
}

/** DM rows as DirectMessages.record would write them: routing then needs no homeserver lookup. */
async function addDmRooms(rooms: { roomId: string; userId: string }[]): Promise<number> {
  if (!ours) throw new Error("addDmRooms: only for our bridge");
  await ours.database.knex.transaction(async (trx) => {
    const store = new RoomStore(trx);
    for (const { roomId, userId } of rooms) {
      await store.put(`dm:${NOOP_AGENT_ID}:${userId}`, roomId, "dm", userId);
    }
  });
  return rooms.length;
}

async function addScheduled(count: number, agentId: string): Promise<number> {
  if (!ours) throw new Error("addScheduled: only for our bridge");
  const store = new ScheduleStore(ours.database.knex);
  const far = Date.now() + 365 * 86_400_000;
  await ours.database.knex.transaction(async (trx) => {
    for (let i = 0; i < count; i++) {
      await store.add(trx, agentId, new Date(far + i * 1000), { text: `bench reminder ${i}` });
    }
  });
  return count;
}

/** Waits until everything posted so far is handled (ours) or dispatched to onEvent (bare). */
async function settle(expected: number): Promise<{ handled: number }> {
  if (ours) {
    await ours.settled(600_000);
    return { handled: noopCounter.commands };
  }
  const deadline = Date.now() + 600_000;
  while (bareEvents < expected) {
    if (Date.now() > deadline) throw new Error(`bare bridge saw ${bareEvents} of ${expected} events`);
    await new Promise((r) => setImmediate(r));
  }
  return { handled: bareEvents };
}

function memory(gc: boolean) {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

async function handle(req: TargetRequest): Promise<unknown> {
  switch (req.cmd) {
    case "start":
      return start(req.spec);
    case "addDmRooms":
      return addDmRooms(req.rooms);
    case "addScheduled":
      return addScheduled(req.count, req.agentId);
    case "settle":
      return settle(req.expected);
    case "memory":
      return memory(req.gc);
    case "cpu":
      return process.cpuUsage();
    case "stop":
      await ours?.stop();
      setTimeout(() => process.exit(0), 50);
      return {};
  }
}

process.on("message", (msg: { id: number; req: TargetRequest }) => {
  handle(msg.req).then(
    (result) => process.send?.({ id: msg.id, ok: true, result }),
    (err: Error) => process.send?.({ id: msg.id, ok: false, error: err?.stack ?? String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
