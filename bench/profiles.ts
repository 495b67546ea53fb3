import type { FootprintProfile } from "./footprint";
import type { InboundProfile } from "./inbound";
import type { LatencyProfile } from "./latency";
import type { OutboundProfile } from "./outbound";
import type { ShapesProfile } from "./pipelineShapes";

export interface BenchProfile {
  name: "full" | "smoke";
  /**
   * Whether the bridges under load may use the embedded database. The smoke version runs them on
   * PostgreSQL (each embedded database costs seconds to create); the footprint figure always
   * runs the real CLI on the embedded database.
   */
  embedded: boolean;
  /** Run the figures one after the other (measurements) or all at once (smoke: only correctness). */
  parallel: boolean;
  inbound: InboundProfile;
  /** Bridges of the long 1k → 100k run (the room scaling runs on the same ones). */
  scaleTargets: ("scale-sqlite" | "scale-pglite" | "scale-postgres")[];
  latency: LatencyProfile;
  outbound: Omit<OutboundProfile, "postgresUrl"> & { postgres: boolean };
  footprint: FootprintProfile;
  shapes: ShapesProfile;
  /** Run other engineers' bench modules (bench/outboundThroughput.ts, bench/reminderPrecision.ts). */
  external: boolean;
}

/** `npm run bench`: every figure, medians of 3 interleaved repetitions, within 15 minutes here. */
export const FULL: BenchProfile = {
  name: "full",
  embedded: true,
  parallel: false,
  inbound: {
    reps: 3,
    txns: 15,
    rooms: 100,
    warmupTxns: 10,
    roomCounts: [10, 100, 1000],
    checkpoints: [1_000, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000],
  },
  scaleTargets: ["scale-sqlite", "scale-pglite"],
  latency: { roundTrips: 200, warmup: 5 },
  outbound: { reps: 3, roomCounts: [1, 10, 100], messages: 40, postgres: true },
  footprint: { reps: 3, scheduled: 10_000, settleMs: 1_000 },
  shapes: { reps: 3, events: 500, batch: 20 },
  external: true,
};

/** The smoke version inside `npm test`: every code path once, tiny sizes. */
export const SMOKE: BenchProfile = {
  name: "smoke",
  embedded: false,
  parallel: true,
  inbound: {
    targets: ["postgres", "bare"],
    reps: 1,
    txns: 2,
    rooms: 5,
    warmupTxns: 1,
    roomCounts: [2, 5],
    checkpoints: [100, 300, 500, 700],
  },
  scaleTargets: ["scale-postgres"],
  latency: { roundTrips: 3, warmup: 1 },
  outbound: { reps: 1, roomCounts: [1, 2], messages: 4, postgres: true },
  footprint: { reps: 1, scheduled: 20, settleMs: 100, variants: ["restart, 10k scheduled"] },
  shapes: { reps: 1, events: 20, batch: 5 },
  external: false,
};
