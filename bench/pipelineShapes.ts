/**
 * Where the inbound time goes, and what batching would save: the database statements the
 * pipeline runs per event today, replayed on the real Inbox and knex, against the batched shape
 * proposed in BENCHMARKS.md ("Bottleneck"), interleaved, on both databases. No bridge, no HTTP:
 * just the statements an event of a DM costs once it is claimed.
 *
 * - per-event (today, src/appservice/eventPipeline.ts handleOne + AgentHost.contained):
 *   BEGIN; SELECT … FOR UPDATE (the event's row); SAVEPOINT; RELEASE; UPDATE … 'handled'; COMMIT
 * - batched (proposed): for the events of one room queued together, BEGIN; one SELECT … FOR
 *   UPDATE over all their rows; per event SAVEPOINT; RELEASE; one UPDATE … 'handled'; COMMIT
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, IN_MEMORY, type Database } from "../src/store/database";
import { migrate } from "../src/store/migrations";
import { Inbox, type InboundEvent } from "../src/store/inbox";
import { makeEvent, roomIds } from "./lib/load";
import { say } from "./lib/log";
import { createThrowawayDatabase } from "./lib/pg";
import { median, pairedRatio, round } from "./lib/stats";

export interface ShapesProfile {
  reps: number;
  /** Events handled per run and shape. */
  events: number;
  /** Events per batch (those of one room queued at the same time; Synapse sends up to 100). */
  batch: number;
}

type Shape = "per-event" | "batched";

export interface ShapesResult {
  profile: ShapesProfile;
  table: { database: string; shape: Shape; eventsPerSecond: number; msPerEvent: number; ratio?: number }[];
}

async function claimFresh(inbox: Inbox, n: number): Promise<string[]> {
  const room = roomIds(1);
  const events = Array.from({ length: n }, (_, i) => makeEvent(room[0], i));
  for (let i = 0; i < n; i += 100) await inbox.claim(events.slice(i, i + 100) as unknown as InboundEvent[]);
  return events.map((e) => e.event_id);
}

async function perEvent(db: Database, inbox: Inbox, ids: string[]): Promise<void> {
  for (const id of ids) {
    await db.knex.transaction(async (trx) => {
      await inbox.lockForHandling(trx, id);
      await trx.transaction(async () => undefined); // the agent's savepoint
      await inbox.markHandled(trx, id);
    });
  }
}

async function batched(db: Database, ids: string[], batch: number): Promise<void> {
  for (let i = 0; i < ids.length; i += batch) {
    const chunk = ids.slice(i, i + batch);
    await db.knex.transaction(async (trx) => {
      await trx("inbound_events").select("event_id", "status").whereIn("event_id", chunk).forUpdate();
      for (let k = 0; k < chunk.length; k++) await trx.transaction(async () => undefined);
      await trx("inbound_events")
        .whereIn("event_id", chunk)
        .update({ status: "handled", error: null, handled_at: trx.fn.now() });
    });
  }
}

export async function runShapes(profile: ShapesProfile, embedded = true): Promise<ShapesResult> {
  const pg = await createThrowawayDatabase();
  const dir = mkdtempSync(join(tmpdir(), "mab-shapes-"));
  const dbs: [string, Database][] = [];
  try {
    if (embedded) {
      dbs.push([
        "embedded (SQLite)",
        await openDatabase({ data_dir: join(dir, "sqlite"), engine: "sqlite" }),
      ]);
      dbs.push([
        "embedded (PGlite)",
        await openDatabase({ data_dir: join(dir, "pglite"), engine: "pglite" }),
      ]);
    }
    dbs.push(["PostgreSQL", await openDatabase({ url: pg.url, data_dir: IN_MEMORY })]);
    for (const [, db] of dbs) await migrate(db);
    const samples: { database: string; shape: Shape; rep: number; eps: number }[] = [];
    for (let rep = 0; rep < profile.reps; rep++) {
      for (const [name, db] of dbs) {
        const inbox = new Inbox(db.knex);
        const shapes: Shape[] = rep % 2 === 0 ? ["per-event", "batched"] : ["batched", "per-event"];
        for (const shape of shapes) {
          const ids = await claimFresh(inbox, profile.events);
          const t0 = performance.now();
          if (shape === "per-event") await perEvent(db, inbox, ids);
          else await batched(db, ids, profile.batch);
          const eps = profile.events / ((performance.now() - t0) / 1000);
          samples.push({ database: name, shape, rep, eps });
          say(`shapes rep ${rep + 1}/${profile.reps} ${name} ${shape}: ${Math.round(eps)} events/s`);
        }
      }
    }
    const table: ShapesResult["table"] = [];
    for (const [name] of dbs) {
      const of = (shape: Shape) =>
        samples.filter((s) => s.database === name && s.shape === shape).sort((a, b) => a.rep - b.rep);
      for (const shape of ["per-event", "batched"] as const) {
        const eps = median(of(shape).map((s) => s.eps));
        table.push({
          database: name,
          shape,
          eventsPerSecond: Math.round(eps),
          msPerEvent: round(1000 / eps, 3),
          ...(shape === "batched"
            ? {
                ratio: pairedRatio(
                  of("batched").map((s) => s.eps),
                  of("per-event").map((s) => s.eps),
                ),
              }
            : {}),
        });
      }
    }
    return { profile, table };
  } finally {
    for (const [, db] of dbs) await db.close().catch(() => undefined);
    await pg.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
