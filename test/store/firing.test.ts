/**
 * Scheduled deliveries at one instant, on each backend: the scheduler fires a burst in one
 * transaction (one savepoint per item, a failing item parked alone), each item's messages carry
 * its parallel group, and the outbox sends the grouped messages of a room side by side while
 * ungrouped ones (replies) stay one at a time, in order.
 */
import type { Database } from "../../src/store/database";
import { Outbox, type OutboxRow } from "../../src/store/outbox";
import { ScheduleStore } from "../../src/store/scheduleStore";
import { SchedulerDispatcher, BURST } from "../../src/scheduler/dispatcher";
import { OutboxWorker } from "../../src/queue/outboxWorker";
import { inParallelGroup } from "../../src/queue/parallelGroup";
import type { HomeserverClient } from "../../src/appservice/homeserverClient";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

const AGENT = "@_agent_reminders:example.org";
const ROOM = "!burst:example.org";
const AT = new Date("2030-01-01T09:00:00Z");

/** Records each send; every send waits until `release()` (so the test sees what was in flight). */
class GatedClient {
  readonly order: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private waiters: (() => void)[] = [];
  async sendEvent(_room: string, _type: string, _txn: string, content: Record<string, unknown>) {
    this.order.push(String(content.body));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight--;
    return `$${String(content.body)}`;
  }
  /** Lets every send in flight finish; resolves how many there were. */
  release(): number {
    const n = this.waiters.length;
    for (const w of this.waiters.splice(0)) w();
    return n;
  }
}

describe.each(backendCases())("firing at one instant on %s", (_name, backend) => {
  let db: Database;
  let outbox: Outbox;
  let schedules: ScheduleStore;
  beforeAll(async () => {
    db = await openMigrated(backend);
    outbox = new Outbox(db.knex);
    schedules = new ScheduleStore(db.knex);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await resetTables(db);
    await db.knex("scheduled_items").del();
  });

  it("fires more than a burst of due items, each in its savepoint, parking only the one that fails", async () => {
    const count = BURST + 5;
    for (let i = 0; i < count; i++) await schedules.add(db.knex, "reminders", AT, { n: i });
    const dispatcher = new SchedulerDispatcher(
      db.knex,
      schedules,
      ["reminders"],
      async (item, trx) => {
        const n = Number(item.payload.n);
        await outbox.enqueue(trx, {
          roomId: ROOM,
          sender: AGENT,
          type: "m.room.message",
          content: { body: `r${n}` },
        });
        if (n === 7) throw new Error("agent bug");
        return "done";
      },
      () => undefined,
    );
    expect(await dispatcher.fireDue(new Date(AT.getTime() + 1))).toBe(count - 1);
    const statuses = (await db
      .knex("scheduled_items")
      .select("status")
      .count({ n: "*" })
      .groupBy("status")) as {
      status: string;
      n: string | number;
    }[];
    expect(Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)]))).toEqual({
      done: count - 1,
      failed: 1,
    });
    const rows = (await db.knex("outbox").orderBy("seq").select("content", "parallel_group")) as {
      content: { body: string } | string;
      parallel_group: string | null;
    }[];
    const bodies = rows.map((r) => (typeof r.content === "string" ? JSON.parse(r.content) : r.content).body);
    // The failing item's message rolled back with its savepoint; everyone else's is there once.
    expect(bodies).toHaveLength(count - 1);
    expect(bodies).not.toContain("r7");
    expect(new Set(rows.map((r) => r.parallel_group)).size).toBe(count - 1);
    expect(rows.every((r) => typeof r.parallel_group === "string")).toBe(true);
  });

  it("headRun: grouped rows after the head, one per group, stopping at the first ungrouped row", async () => {
    const add = (body: string, group?: string) =>
      outbox.enqueue(db.knex, {
        roomId: ROOM,
        sender: AGENT,
        type: "m.room.message",
        content: { body },
        ...(group ? { parallelGroup: group } : {}),
      });
    await add("a1", "a");
    await add("b1", "b");
    await add("a2", "a");
    await add("c1", "c");
    await add("reply");
    await add("d1", "d");
    const bodies = (rows: OutboxRow[]) => rows.map((r) => String(r.content.body));
    expect(bodies(await outbox.headRun(ROOM, 8))).toEqual(["a1", "b1", "c1"]);
    expect(bodies(await outbox.headRun(ROOM, 2))).toEqual(["a1", "b1"]);
    await db.knex("outbox").whereIn("id", db.knex("outbox").select("id").orderBy("seq").limit(4)).del();
    expect(bodies(await outbox.headRun(ROOM, 8))).toEqual(["reply"]);
    // Rows written inside a group's scope carry it without being told.
    const row = await inParallelGroup("item-1", () => add("scoped"));
    expect(row.parallelGroup).toBe("item-1");
  });

  it("the worker sends grouped rows of a room side by side and a reply only after them, alone", async () => {
    const add = (body: string, group?: string) =>
      outbox.enqueue(db.knex, {
        roomId: ROOM,
        sender: AGENT,
        type: "m.room.message",
        content: { body },
        ...(group ? { parallelGroup: group } : {}),
      });
    for (let i = 0; i < 5; i++) await add(`due${i}`, `item${i}`);
    await add("reply");
    await add("after");
    const client = new GatedClient();
    const worker = new OutboxWorker(outbox, client as unknown as HomeserverClient, {
      concurrency: 2,
      backoff: { baseMs: 10, maxMs: 100 },
      idlePollMs: 50,
      parallelSendsPerRoom: 3,
    });
    worker.start();
    const until = async (what: () => boolean) => {
      while (!what()) await new Promise((r) => setTimeout(r, 5));
    };
    try {
      await until(() => client.inFlight === 3);
      expect(client.release()).toBe(3);
      await until(() => client.inFlight === 2);
      expect(client.release()).toBe(2);
      for (const alone of ["reply", "after"]) {
        await until(() => client.inFlight === 1 && client.order.at(-1) === alone);
        expect(client.release()).toBe(1);
      }
      await worker.drained(10_000);
    } finally {
      client.release();
      await worker.stop(1_000);
    }
    expect(client.order).toEqual(["due0", "due1", "due2", "due3", "due4", "reply", "after"]);
    expect(client.maxInFlight).toBe(3);
  });
});
