/**
 * The exactly-once machinery on each database backend, without a homeserver: the event pipeline
 * (claim, ordered handling, recovery, backlog mode, transient retries, stop, two pipelines on one
 * database), the pruner, and the outbox's room lock.
 */
import type { Knex } from "knex";
import type { Database } from "../../src/store/database";
import { Inbox, type InboundEvent } from "../../src/store/inbox";
import { Outbox } from "../../src/store/outbox";
import { Pruner } from "../../src/store/pruner";
import { EventPipeline, type PipelineOptions } from "../../src/appservice/eventPipeline";
import { HomeserverError } from "../../src/errors";
import type { MatrixEvent } from "../../src/agents/types";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";
import { ago } from "../../src/store/sqlDialect";

const DAY_MS = 86_400_000;

const BOT = "@_agent_echo:example.org";

function ev(room: string, i: number): MatrixEvent {
  return {
    event_id: `$${room}-${i}`,
    room_id: `!${room}:example.org`,
    type: "m.room.message",
    sender: "@alice:example.org",
    content: { body: `${room} ${i}` },
    origin_server_ts: 0,
  } as MatrixEvent;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backendCases())("delivery machinery on %s", (name, backend) => {
  let db: Database;
  let inbox: Inbox;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await openMigrated(backend);
    inbox = new Inbox(db.knex);
    outbox = new Outbox(db.knex);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await resetTables(db);
  });

  /** A pipeline whose handler records what it handled and writes one outbox row per event. */
  function pipeline(
    handled: string[],
    opts: Partial<PipelineOptions> = {},
    before?: (event: MatrixEvent) => Promise<void>,
  ): EventPipeline {
    const handler = async (event: MatrixEvent, trx: Knex.Transaction) => {
      await before?.(event);
      await outbox.enqueue(trx, {
        roomId: event.room_id,
        sender: BOT,
        type: "m.room.message",
        content: { body: String(event.content.body) },
        sourceEventId: event.event_id,
      });
      handled.push(event.event_id);
    };
    return new EventPipeline(
      db.knex,
      inbox,
      handler,
      () => undefined,
      {},
      { sweepIntervalMs: 3_600_000, ...opts },
    );
  }

  const replies = async (room: string) =>
    (await outbox.listForRoom(`!${room}:example.org`)).map((r) => String(r.content.body));

  it("only claims until recover(); then handles every event once, each room in order", async () => {
    const handled: string[] = [];
    const p = pipeline(handled);
    await p.receive([ev("a", 1), ev("b", 1), ev("a", 2)]);
    await p.receive([ev("a", 2), ev("a", 3), ev("b", 2)]); // one replay
    await sleep(50);
    expect(handled).toEqual([]);
    expect(await p.recover()).toBe(5);
    await p.receive([ev("a", 4), ev("a", 1)]);
    await p.idle();
    expect(handled.sort()).toEqual(["$a-1", "$a-2", "$a-3", "$a-4", "$b-1", "$b-2"]);
    expect(await replies("a")).toEqual(["a 1", "a 2", "a 3", "a 4"]);
    expect(await replies("b")).toEqual(["b 1", "b 2"]);
    expect((await inbox.counts()).claimed).toBe(0);
    await p.stop(1000);
  });

  it("backlog mode: beyond maxQueued, events wait in the database and still run once, in order", async () => {
    const handled: string[] = [];
    const p = pipeline(handled, { maxQueued: 5 });
    await p.recover();
    for (let i = 1; i <= 10; i++) await p.receive(["a", "b", "c", "d"].map((r) => ev(r, i)));
    await p.idle();
    expect(handled).toHaveLength(40);
    for (const r of ["a", "b", "c", "d"]) {
      expect(await replies(r)).toEqual(Array.from({ length: 10 }, (_, i) => `${r} ${i + 1}`));
    }
    await p.stop(1000);
  });

  it("retries a transient failure; records a permanent one as failed with its effects rolled back", async () => {
    const handled: string[] = [];
    let homeserverDown = 2;
    const p = pipeline(handled, { retry: { baseMs: 10, maxMs: 20 } }, async (event) => {
      if (event.event_id === "$a-1" && homeserverDown-- > 0)
        throw new HomeserverError("Cannot reach the homeserver");
      if (event.event_id === "$a-2") throw new Error("a bug");
    });
    await p.recover();
    await p.receive([ev("a", 1), ev("a", 2), ev("a", 3)]);
    await p.idle();
    expect(handled).toEqual(["$a-1", "$a-3"]);
    expect(await replies("a")).toEqual(["a 1", "a 3"]);
    expect(await inbox.get("$a-2")).toMatchObject({ status: "failed", error: "a bug" });
    await p.stop(1000);
  });

  it("stop(): events not started stay claimed, and the next start handles them", async () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = pipeline(handled, {}, async (event) => {
      if (event.event_id === "$a-1") await gate;
    });
    await p.recover();
    await p.receive([ev("a", 1), ev("a", 2), ev("a", 3)]);
    const stopping = p.stop(5000);
    release();
    await stopping;
    expect(handled).toEqual(["$a-1"]);
    expect((await inbox.unhandled()).map((e) => e.eventId)).toEqual(["$a-2", "$a-3"]);

    const next = pipeline(handled);
    await next.recover();
    await next.idle();
    expect(handled).toEqual(["$a-1", "$a-2", "$a-3"]);
    expect(await replies("a")).toEqual(["a 1", "a 2", "a 3"]);
    await next.stop(1000);
  });

  it("two pipelines on one database, given the same events, handle each once and keep rooms in order", async () => {
    const handled: string[] = [];
    const slow = async () => {
      await sleep(Math.random() * 5);
    };
    const opts = { orderAcrossProcesses: name === "postgres" };
    const p1 = pipeline(handled, opts, slow);
    const p2 = pipeline(handled, opts, slow);
    await Promise.all([p1.recover(), p2.recover()]);
    for (let i = 1; i <= 20; i += 4) {
      const batch = ["a", "b"].flatMap((r) => [i, i + 1, i + 2, i + 3].map((k) => ev(r, k)));
      // The same batch to both at once (a transaction retried to the other process), then an
      // overlapping part of it again. Order is claim order: concurrent claims of *different*
      // overlapping batches could interleave, which a homeserver never sends (one transaction in
      // flight, and a retry carries the same events).
      await Promise.all([p1.receive(batch), p2.receive(batch), p2.receive(batch)]);
      await p1.receive(batch.slice(2, 6));
    }
    await Promise.all([p1.idle(), p2.idle()]);
    expect(handled).toHaveLength(40);
    expect(new Set(handled).size).toBe(40);
    for (const r of ["a", "b"]) {
      expect(await replies(r)).toEqual(Array.from({ length: 20 }, (_, i) => `${r} ${i + 1}`));
    }
    await Promise.all([p1.stop(1000), p2.stop(1000)]);
  });

  it("prunes old handled events and old sent or parked messages, never unfinished work", async () => {
    await inbox.claim([1, 2, 3, 4].map((i) => ev("a", i) as unknown as InboundEvent));
    await inbox.markHandled(db.knex, "$a-1");
    await inbox.markFailed(db.knex, "$a-2", "boom");
    await inbox.markHandled(db.knex, "$a-4");
    await db
      .knex("inbound_events")
      .whereIn("event_id", ["$a-1", "$a-2", "$a-3"])
      .update({
        received_at: ago(db.knex, 10 * DAY_MS),
      });
    const rows = [];
    for (let i = 0; i < 5; i++) {
      rows.push(
        await outbox.enqueue(db.knex, {
          roomId: "!a:example.org",
          sender: BOT,
          type: "m.room.message",
          content: { i },
        }),
      );
    }
    await outbox.markSent(rows[0].id, "$sent-old");
    await outbox.markSent(rows[1].id, "$sent-new");
    await outbox.markFailed(rows[2].id, "403");
    await db
      .knex("outbox")
      .where({ id: rows[0].id })
      .update({ sent_at: ago(db.knex, 40 * DAY_MS) });
    await db
      .knex("outbox")
      .whereIn("id", [rows[2].id, rows[3].id])
      .update({
        created_at: ago(db.knex, 40 * DAY_MS),
      });
    const reports: unknown[] = [];
    const pruner = new Pruner(
      inbox,
      outbox,
      { eventRetentionDays: 7, sentRetentionDays: 30, failedRetentionDays: 30, intervalMs: 3_600_000 },
      (r) => reports.push(r),
    );
    expect(await pruner.runOnce()).toEqual({ events: 2, sent: 1, failed: 1 });
    expect(reports).toHaveLength(1);
    // The claimed event (old but unhandled), the recent one, and every pending message stay.
    expect(
      (await db.knex("inbound_events").select("event_id").orderBy("event_id")).map((r) => r.event_id),
    ).toEqual(["$a-3", "$a-4"]);
    expect((await outbox.listForRoom("!a:example.org")).map((r) => r.status)).toEqual([
      "sent",
      "pending",
      "pending",
    ]);
    expect(await pruner.runOnce()).toEqual({ events: 0, sent: 0, failed: 0 });
  });

  if (name === "postgres") {
    it("withRoomLock lets one process at a time deliver a room", async () => {
      let inside!: () => void;
      const entered = new Promise<void>((r) => (inside = r));
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = outbox.withRoomLock("!a:example.org", async () => {
        inside();
        await held;
        return "first";
      });
      await entered;
      expect(await outbox.withRoomLock("!a:example.org", async () => "second")).toBe("busy");
      expect(await outbox.withRoomLock("!b:example.org", async () => "other room")).toBe("other room");
      release();
      expect(await first).toBe("first");
      expect(await outbox.withRoomLock("!a:example.org", async () => "after")).toBe("after");
    });
  }
});
