/**
 * End-to-end latency on a real Synapse: a human (matrix-js-sdk) writes in a DM with the echo
 * agent and waits for the reply in their own sync. The floor, measured in the same run and
 * interleaved round by round: human A writes in a room with human B, until B's sync has it.
 * Our latency minus the floor is what the bridge adds (the appservice push, our handling, the
 * durable queue and the reply's send). The reference, in the same run and interleaved too: the
 * smallest possible appservice (bench/minimalAppservice.ts: receive, one members lookup, one
 * send, no store) answering the same way in a DM of its own. Each round runs the three in a
 * rotating order.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHuman, type Human, type PlainEvent } from "../test/harness/human";
import { agentUserId } from "../src/config/bridgeConfig";
import type { BenchEnv } from "./lib/env";
import { say } from "./lib/log";
import { percentile, round, summarize, type Summary } from "./lib/stats";
import type { TargetPool } from "./lib/target";
import { scrape, windowMeans } from "./lib/metrics";
import { compiledBench } from "./lib/paths";

export interface LatencyProfile {
  roundTrips: number;
  warmup: number;
}

export interface LatencyResult {
  profile: LatencyProfile;
  /** Milliseconds. */
  ours: Summary;
  floor: Summary;
  /** The minimal echo appservice (bench/minimalAppservice.ts) on the same Synapse, interleaved. */
  minimal?: Summary;
  /** ours − floor at each percentile, ms. */
  added: { p50: number; p95: number; p99: number };
  /** ours ÷ minimal appservice at each percentile (targets: p50 ≤ 1.1, p99 ≤ 1.3). */
  vsMinimal?: { p50: number; p95: number; p99: number };
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

/** Starts the minimal appservice of the "minimal" slot; resolves once it listens. */
async function startMinimal(env: BenchEnv): Promise<{ child: ChildProcess; userId: string }> {
  const slot = env.slot("minimal");
  const userId = `@${slot.registration.sender_localpart}:${slot.config.homeserver.domain}`;
  const args = JSON.stringify({
    port: slot.port,
    homeserverUrl: slot.config.homeserver.url,
    asToken: slot.registration.as_token,
    hsToken: slot.registration.hs_token,
    userId,
  });
  const child = spawn(process.execPath, [compiledBench("minimalAppservice"), args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`minimal appservice exited with ${code}`)));
  });
  return { child, userId };
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
  const minimal = await startMinimal(env);
  try {
    const alice = await createHuman(env.synapse);
    const bob = await createHuman(env.synapse);
    humans.push(alice, bob);
    const dm = await alice.createDm(echo);
    await alice.waitForMembership(dm, echo, "join", 30_000);
    await alice.waitForEvent(dm, (ev) => ev.sender === echo, 30_000); // the greeting
    const room = await alice.createRoom({ invite: [bob.userId], preset: alice.sdk.Preset.PrivateChat });
    await bob.joinRoom(room);
    const minimalDm = await alice.createDm(minimal.userId);
    await alice.waitForMembership(minimalDm, minimal.userId, "join", 30_000);

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
    const viaMinimal = async (i: number) => {
      const t0 = performance.now();
      const id = await alice.sendText(minimalDm, `round trip ${i}`);
      await alice.waitForEvent(minimalDm, repliesTo(minimal.userId, id), 30_000);
      return performance.now() - t0;
    };
    for (let i = 0; i < profile.warmup; i++) {
      await viaBridge(-i);
      await floor(-i);
      await viaMinimal(-i);
    }
    const ours: number[] = [];
    const base: number[] = [];
    const small: number[] = [];
    const variants: [(i: number) => Promise<number>, number[]][] = [
      [viaBridge, ours],
      [floor, base],
      [viaMinimal, small],
    ];
    const before = await scrape(target.port).catch(() => undefined);
    for (let i = 0; i < profile.roundTrips; i++) {
      // Rotate who goes first, so drift in the machine's load hits all alike.
      for (let k = 0; k < variants.length; k++) {
        const [run, into] = variants[(i + k) % variants.length];
        into.push(await run(i));
      }
      if ((i + 1) % 50 === 0) say(`latency: ${i + 1}/${profile.roundTrips} round trips`);
    }
    const after = await scrape(target.port).catch(() => undefined);
    const added = (p: number) => round(percentile(ours, p) - percentile(base, p), 1);
    const ratio = (p: number) => round(percentile(ours, p) / percentile(small, p), 3);
    return {
      profile,
      ours: summarize(ours),
      floor: summarize(base),
      minimal: summarize(small),
      added: { p50: added(50), p95: added(95), p99: added(99) },
      vsMinimal: { p50: ratio(50), p95: ratio(95), p99: ratio(99) },
      bridgeMeans: before && after ? windowMeans(before, after) : {},
    };
  } finally {
    for (const h of humans) await h.stop().catch(() => undefined);
    minimal.child.kill("SIGTERM");
    await pool.stop("latency");
  }
}
