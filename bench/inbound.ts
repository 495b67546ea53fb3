/**
 * Inbound pipeline: transactions of 100 events posted over loopback HTTP with the hs_token,
 * through auth, the dedupe claim and routing to a no-op agent, on the embedded database and on
 * PostgreSQL, with 0% and 50% replayed events, against a bare matrix-appservice-bridge Bridge
 * with a no-op onEvent. All targets run at once, each in its own process, and every
 * repetition posts the same workload to each of them back to back (rotating who goes first).
 */
import type { BenchEnv } from "./lib/env";
import { buildWorkload, dmRows, roomIds, TransactionPoster, type BenchEvent } from "./lib/load";
import { say } from "./lib/log";
import { MB, rssPartsOf } from "./lib/proc";
import { median, pairedRatio, round } from "./lib/stats";
import { targetKind, type TargetPool, type TargetProcess } from "./lib/target";

export interface InboundProfile {
  reps: number;
  /** Transactions (of 100 events) per measured run. */
  txns: number;
  /** DM rooms the events are spread over (round robin). */
  rooms: number;
  warmupTxns: number;
  /** Room counts the long run's stretches rotate through (after the first two). */
  roomCounts: number[];
  /** Checkpoints (handled events so far) of the long run, e.g. 1k, 10k, …, 100k. */
  checkpoints: number[];
  /** Bridges to compare (default all: ours on both databases and the bare library). */
  targets?: TargetName[];
}

export interface RunSample {
  target: string;
  replayShare: number;
  rep: number;
  posted: number;
  fresh: number;
  seconds: number;
  /** Time until the last transaction was acknowledged (200). */
  ackSeconds: number;
  eventsPerSecond: number;
  /** CPU time of the bridge process per posted event. */
  cpuUsPerEvent: number;
}

export interface InboundResult {
  profile: InboundProfile;
  samples: RunSample[];
  /** Resident memory of each bridge process after the warm-up and at the end (MB). */
  rssMB: Record<string, { afterWarmup: number; atEnd: number }>;
  /** Medians per target and replay share. */
  table: {
    target: string;
    replayShare: number;
    eventsPerSecond: number;
    cpuUsPerEvent: number;
    ackEventsPerSecond: number;
    /** Median over repetitions of ours/bare (events per second), paired within a repetition. */
    ratioToBare?: number;
  }[];
  /**
   * CPU per event by kind, against the bare library's in the same repetition: "commands" (the
   * DM workload above: every event goes to an agent) and "inert" (ordinary chat in group rooms no
   * agent is asked about, recorded in the claim). Ratio = median of per-repetition ours ÷ bare.
   */
  cpuByKind?: {
    kind: "commands" | "inert";
    target: string;
    cpuUsPerEvent: number;
    bareCpuUsPerEvent: number;
    cpuRatioToBare: number;
  }[];
}

export const TARGETS = ["sqlite", "pglite", "postgres", "bare"] as const;
export type TargetName = (typeof TARGETS)[number];

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Posts a workload and waits until the target has handled all of it. */
async function measure(
  target: TargetProcess,
  poster: TransactionPoster,
  bodies: readonly string[],
  expectedTotal: number,
): Promise<{ seconds: number; ackSeconds: number; cpuMs: number; handled: number }> {
  const cpu0 = await target.cpuMs();
  const t0 = performance.now();
  await poster.postAll(bodies);
  const tAck = performance.now();
  const handled = await target.settle(expectedTotal);
  const t1 = performance.now();
  return {
    seconds: (t1 - t0) / 1000,
    ackSeconds: (tAck - t0) / 1000,
    cpuMs: (await target.cpuMs()) - cpu0,
    handled,
  };
}

class Driven {
  handled = 0;
  posted = 0;
  constructor(
    readonly name: string,
    readonly target: TargetProcess,
    readonly poster: TransactionPoster,
    readonly bare: boolean,
  ) {}

  /**
   * Runs one workload and checks that every event got through (the agent saw each new one once;
   * `forAgent` false: chat no agent is asked about, which the agent must not see at all).
   */
  async run(bodies: readonly string[], posted: number, fresh: number, forAgent = true) {
    this.posted += posted;
    const expect = this.bare ? this.posted : this.handled + (forAgent ? fresh : 0);
    const m = await measure(this.target, this.poster, bodies, this.posted);
    if (m.handled !== expect) {
      throw new Error(`${this.name}: the agent saw ${m.handled} events, expected ${expect}`);
    }
    this.handled = m.handled;
    return m;
  }

  async stop() {
    this.poster.close();
    await this.target.stop();
  }
}

async function startDriven(env: BenchEnv, pool: TargetPool, slotName: string): Promise<Driven> {
  const slot = env.slot(slotName);
  const target = await pool.get(slotName);
  const poster = new TransactionPoster(target.port, slot.registration.hs_token);
  return new Driven(slotName, target, poster, targetKind(slotName).kind === "bare");
}

/** The inbound figure. Slots "sqlite", "pglite" (database.engine), "postgres" (database.url) and "bare" must exist in `env`. */
export async function runInbound(
  env: BenchEnv,
  profile: InboundProfile,
  pool: TargetPool,
): Promise<InboundResult> {
  const targets = new Map<TargetName, Driven>();
  const names: readonly TargetName[] = profile.targets ?? TARGETS;
  try {
    // Started together (start-up is not measured here); each sits idle while the others are measured.
    const started = await Promise.allSettled(names.map((name) => startDriven(env, pool, name)));
    for (const [i, s] of started.entries()) if (s.status === "fulfilled") targets.set(names[i], s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const rooms = roomIds(profile.rooms);
    for (const [name, t] of targets) {
      if (name !== "bare") await t.target.request({ cmd: "addDmRooms", rooms: dmRows(rooms) });
    }
    // Warm-up: JIT, connection pools, the DM cache; its last events prime the first replays.
    const warm = buildWorkload(rooms, profile.warmupTxns);
    for (const t of targets.values())
      await t.run(warm.workload.bodies, warm.workload.posted, warm.workload.fresh);
    let primer: BenchEvent[] = warm.lastFresh;
    const rssMB: InboundResult["rssMB"] = {};
    for (const [name, t] of targets) rssMB[name] = { afterWarmup: round(t.target.rss() / MB, 1), atEnd: 0 };

    const samples: RunSample[] = [];
    for (let rep = 0; rep < profile.reps; rep++) {
      for (const replayShare of [0, 0.5]) {
        const { workload, lastFresh } = buildWorkload(rooms, profile.txns, replayShare, primer);
        primer = lastFresh;
        for (const name of rotate(names, rep)) {
          const t = targets.get(name)!;
          const m = await t.run(workload.bodies, workload.posted, workload.fresh);
          const sample: RunSample = {
            target: name,
            replayShare,
            rep,
            posted: workload.posted,
            fresh: workload.fresh,
            seconds: round(m.seconds),
            ackSeconds: round(m.ackSeconds),
            eventsPerSecond: Math.round(workload.posted / m.seconds),
            cpuUsPerEvent: round((m.cpuMs * 1000) / workload.posted, 1),
          };
          samples.push(sample);
          say(
            `inbound rep ${rep + 1}/${profile.reps} ${name} replay ${replayShare * 100}%: ` +
              `${sample.eventsPerSecond} events/s, ${sample.cpuUsPerEvent} µs CPU/event`,
          );
        }
      }
    }
    const inert = await inertRuns(targets, names, profile);
    for (const [name, t] of targets) rssMB[name].atEnd = round(t.target.rss() / MB, 1);
    const table: InboundResult["table"] = [];
    for (const replayShare of [0, 0.5]) {
      const of = (name: string) =>
        samples
          .filter((s) => s.target === name && s.replayShare === replayShare)
          .sort((a, b) => a.rep - b.rep);
      const bare = of("bare");
      for (const name of names) {
        const runs = of(name);
        table.push({
          target: name,
          replayShare,
          eventsPerSecond: Math.round(median(runs.map((s) => s.eventsPerSecond))),
          cpuUsPerEvent: round(median(runs.map((s) => s.cpuUsPerEvent)), 1),
          ackEventsPerSecond: Math.round(median(runs.map((s) => s.posted / s.ackSeconds))),
          ...(name === "bare" || bare.length === 0
            ? {}
            : {
                ratioToBare: pairedRatio(
                  runs.map((s) => s.eventsPerSecond),
                  bare.map((s) => s.eventsPerSecond),
                ),
              }),
        });
      }
    }
    const cpuByKind: NonNullable<InboundResult["cpuByKind"]> = [];
    const kinds: ["commands" | "inert", RunSample[]][] = [
      ["commands", samples.filter((x) => x.replayShare === 0)],
      ["inert", inert],
    ];
    for (const [kind, runs] of kinds) {
      const of = (name: string) => runs.filter((x) => x.target === name).sort((a, b) => a.rep - b.rep);
      const bare = of("bare");
      for (const name of names) {
        if (name === "bare" || bare.length === 0) continue;
        const ours = of(name);
        cpuByKind.push({
          kind,
          target: name,
          cpuUsPerEvent: round(median(ours.map((x) => x.cpuUsPerEvent)), 1),
          bareCpuUsPerEvent: round(median(bare.map((x) => x.cpuUsPerEvent)), 1),
          cpuRatioToBare: pairedRatio(
            ours.map((x) => x.cpuUsPerEvent),
            bare.map((x) => Math.max(x.cpuUsPerEvent, 0.1)),
          ),
        });
      }
    }
    return { profile, samples, rssMB, table, cpuByKind };
  } finally {
    for (const t of targets.values()) await t.stop().catch(() => undefined);
  }
}

/**
 * Ordinary chat in group rooms: after one transaction that makes the bridge meet the rooms (the
 * first message of a room it has not seen is always handled), `reps` runs of `txns` transactions
 * of chat no agent is asked about, each target back to back.
 */
async function inertRuns(
  targets: Map<TargetName, Driven>,
  names: readonly TargetName[],
  profile: InboundProfile,
): Promise<RunSample[]> {
  const rooms = roomIds(profile.rooms);
  const meet = buildWorkload(rooms, 1);
  for (const t of targets.values()) await t.run(meet.workload.bodies, meet.workload.posted, 0, false);
  const samples: RunSample[] = [];
  for (let rep = 0; rep < profile.reps; rep++) {
    const { workload } = buildWorkload(rooms, profile.txns);
    for (const name of rotate(names, rep)) {
      const m = await targets.get(name)!.run(workload.bodies, workload.posted, workload.fresh, false);
      const sample: RunSample = {
        target: name,
        replayShare: 0,
        rep,
        posted: workload.posted,
        fresh: workload.fresh,
        seconds: round(m.seconds),
        ackSeconds: round(m.ackSeconds),
        eventsPerSecond: Math.round(workload.posted / m.seconds),
        cpuUsPerEvent: round((m.cpuMs * 1000) / workload.posted, 1),
      };
      samples.push(sample);
      say(`inbound rep ${rep + 1}/${profile.reps} ${name} inert chat: ${sample.cpuUsPerEvent} µs CPU/event`);
    }
  }
  return samples;
}

export interface RoomScalingResult {
  samples: { target: string; rooms: number; rep: number; eventsPerSecond: number; cpuUsPerEvent: number }[];
  table: { target: string; rooms: number; eventsPerSecond: number; cpuUsPerEvent: number; rssMB: number }[];
}

export interface EventScalingResult {
  /** One row per checkpoint: handled events so far, cost of the last stretch, memory after it. */
  series: {
    target: string;
    handled: number;
    stretchEvents: number;
    /** DM rooms the stretch's events were spread over. */
    rooms: number;
    eventsPerSecond: number;
    cpuUsPerEvent: number;
    rssMB: number;
    heapUsedMB: number;
  }[];
  /** RSS before the first event (bridge started, rooms stored). */
  idleRssMB: Record<string, number>;
}

/**
 * Scaling, in one long run of a fresh bridge ("scale-sqlite" / "scale-pglite" / "scale-postgres" slots): it
 * handles events up to the last checkpoint (100k), recording the cost of each stretch and the
 * memory after it. The first stretches go to `rooms` DM rooms; after that, each stretch goes to
 * 10, 100 or 1,000 rooms in rotation, so every room count is measured three times, early, midway
 * and late in the run, at the same table sizes as the others.
 */
export async function runScaling(
  env: BenchEnv,
  profile: InboundProfile,
  names: readonly string[],
  pool: TargetPool,
): Promise<{ rooms: RoomScalingResult; events: EventScalingResult }> {
  const targets: Driven[] = [];
  try {
    const started = await Promise.allSettled(names.map((name) => startDriven(env, pool, name)));
    for (const s of started) if (s.status === "fulfilled") targets.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const idleRssMB: Record<string, number> = {};
    for (const t of targets) {
      await t.target.memory(true); // after a GC, like every later sample
      idleRssMB[t.name] = round(t.target.rss() / MB, 1);
    }

    const base = roomIds(profile.rooms);
    const sets = new Map(profile.roomCounts.map((n) => [n, roomIds(n)]));
    for (const t of targets) {
      await t.target.request({ cmd: "addDmRooms", rooms: dmRows([...base, ...[...sets.values()].flat()]) });
    }
    /** Stretches 0 and 1 (to 1k, to 10k) warm up on the base rooms; then room counts rotate. */
    const roomsFor = (stretch: number): { rooms: string[]; count: number; rep?: number } => {
      const k = stretch - 2;
      if (k < 0 || profile.roomCounts.length === 0) return { rooms: base, count: base.length };
      const rep = Math.floor(k / profile.roomCounts.length);
      const count = rotate(profile.roomCounts, rep)[k % profile.roomCounts.length];
      return { rooms: sets.get(count)!, count, rep };
    };
    const series: EventScalingResult["series"] = [];
    const samples: RoomScalingResult["samples"] = [];
    const rss = new Map<string, number[]>();
    const done = new Map<string, number>();
    for (const [i, checkpoint] of profile.checkpoints.entries()) {
      const { rooms, count, rep } = roomsFor(i);
      for (const t of rotate(targets, i)) {
        const before = done.get(t.name) ?? 0;
        const { workload } = buildWorkload(rooms, Math.round((checkpoint - before) / 100));
        const m = await t.run(workload.bodies, workload.posted, workload.fresh);
        done.set(t.name, before + workload.posted);
        const mem = await t.target.memory(true);
        const parts = rssPartsOf(t.target.pid);
        const row = {
          target: t.name,
          handled: before + workload.posted,
          stretchEvents: workload.posted,
          rooms: count,
          eventsPerSecond: Math.round(workload.posted / m.seconds),
          cpuUsPerEvent: round((m.cpuMs * 1000) / workload.posted, 1),
          rssMB: round(t.target.rss() / MB, 1),
          heapUsedMB: round(mem.heapUsed / MB, 1),
        };
        series.push(row);
        if (rep !== undefined) {
          samples.push({
            target: t.name,
            rooms: count,
            rep,
            eventsPerSecond: row.eventsPerSecond,
            cpuUsPerEvent: row.cpuUsPerEvent,
          });
          const key = `${t.name}/${count}`;
          rss.set(key, [...(rss.get(key) ?? []), row.rssMB]);
        }
        say(
          `scaling ${t.name}: ${row.handled} handled (${count} rooms), last stretch ${row.eventsPerSecond} events/s, ` +
            `${row.cpuUsPerEvent} µs CPU/event, RSS ${row.rssMB} MB (anon ${round(parts.anon / MB, 1)}, ` +
            `file ${round(parts.file / MB, 1)}), heap ${row.heapUsedMB} of ${round(mem.heapTotal / MB, 1)} MB, ` +
            `external ${round(mem.external / MB, 1)} MB`,
        );
      }
    }
    const table: RoomScalingResult["table"] = [];
    for (const t of targets) {
      for (const n of profile.roomCounts) {
        const runs = samples.filter((s) => s.target === t.name && s.rooms === n);
        if (runs.length === 0) continue;
        table.push({
          target: t.name,
          rooms: n,
          eventsPerSecond: Math.round(median(runs.map((s) => s.eventsPerSecond))),
          cpuUsPerEvent: round(median(runs.map((s) => s.cpuUsPerEvent)), 1),
          rssMB: round(median(rss.get(`${t.name}/${n}`) ?? []), 1),
        });
      }
    }
    return { rooms: { samples, table }, events: { series, idleRssMB } };
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
  }
}
