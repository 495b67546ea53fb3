/**
 * End-to-end latency on a real Synapse: a human (matrix-js-sdk) writes in a DM with the echo
 * agent and waits for the reply in their own sync. The floor, measured in the same run and
 * interleaved round by round: human A writes in a room with human B, until B's sync has it.
 * Our latency minus the floor is what the bridge adds (the appservice push, our handling, the
 * durable queue and the reply's send).
 */
import { createHuman, type Human, type PlainEvent } from "../test/harness/human";
import { agentUserId } from "../src/config/bridgeConfig";
import type { BenchEnv } from "./lib/env";
import { say } from "./lib/log";
import { percentile, round, summarize, type Summary } from "./lib/stats";
import type { TargetPool } from "./lib/target";
import { scrape, windowMeans } from "./lib/metrics";

export interface LatencyProfile {
  roundTrips: number;
  warmup: number;
}

export interface LatencyResult {
  profile: LatencyProfile;
  /** Milliseconds. */
  ours: Summary;
  floor: Summary;
  /** ours − floor at each percentile, ms. */
  added: { p50: number; p95: number; p99: number };
  /**
   * Inside the bridge during the measured round trips, from its /metrics histograms: mean time to
   * handle an event (its database transaction) and to send a message (the PUT to the homeserver).
   */
  bridgeMeans: Record<string, { count: number; meanMs: number }>;
}

function repliesTo(agent: string, eventId: string) {
  return (ev: PlainEvent) =>
    ev.sender === agent &&
    (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
      ?.event_id === eventId;
}

export async function runLatency(
  env: BenchEnv,
  profile: LatencyProfile,
  pool: TargetPool,
): Promise<LatencyResult> {
  const slot = env.slot("latency");
  const echo = agentUserId(slot.config, "echo");
  const target = await pool.get("latency");
  const humans: Human[] = [];
  try {
    const alice = await createHuman(env.synapse);
    const bob = await createHuman(env.synapse);
    humans.push(alice, bob);
    const dm = await alice.createDm(echo);
    await alice.waitForMembership(dm, echo, "join", 30_000);
    await alice.waitForEvent(dm, (ev) => ev.sender === echo, 30_000); // the greeting
    const room = await alice.createRoom({ invite: [bob.userId], preset: alice.sdk.Preset.PrivateChat });
    await bob.joinRoom(room);

    const viaBridge = async (i: number) => {
      const t0 = performance.now();
      const id = await alice.sendText(dm, `round trip ${i}`);
      await alice.waitForEvent(dm, repliesTo(echo, id), 30_000);
      return performance.now() - t0;
    };
    const floor = async (i: number) => {
      const t0 = performance.now();
      const id = await alice.sendText(room, `round trip ${i}`);
      await bob.waitForEvent(room, (ev) => ev.event_id === id, 30_000);
      return performance.now() - t0;
    };
    for (let i = 0; i < profile.warmup; i++) {
      await viaBridge(-i);
      await floor(-i);
    }
    const ours: number[] = [];
    const base: number[] = [];
    const before = await scrape(target.port).catch(() => undefined);
    for (let i = 0; i < profile.roundTrips; i++) {
      // Alternate who goes first, so drift in the machine's load hits both alike.
      if (i % 2 === 0) {
        ours.push(await viaBridge(i));
        base.push(await floor(i));
      } else {
        base.push(await floor(i));
        ours.push(await viaBridge(i));
      }
      if ((i + 1) % 50 === 0) say(`latency: ${i + 1}/${profile.roundTrips} round trips`);
    }
    const after = await scrape(target.port).catch(() => undefined);
    const added = (p: number) => round(percentile(ours, p) - percentile(base, p), 1);
    return {
      profile,
      ours: summarize(ours),
      floor: summarize(base),
      added: { p50: added(50), p95: added(95), p99: added(99) },
      bridgeMeans: before && after ? windowMeans(before, after) : {},
    };
  } finally {
    for (const h of humans) await h.stop().catch(() => undefined);
    await pool.stop("latency");
  }
}
