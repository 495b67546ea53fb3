import type { Database } from "../../src/store/database";
import { Outbox, type OutboxMessage } from "../../src/store/outbox";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

const ROOM_A = "!a:example.org";
const ROOM_B = "!b:example.org";
const BOT = "@_agent_timer:example.org";

function msg(roomId: string, body: string, extra: Partial<OutboxMessage> = {}): OutboxMessage {
  return { roomId, sender: BOT, type: "m.room.message", content: { msgtype: "m.text", body }, ...extra };
}

const seconds = (n: number): number => n * 1000;

describe.each(backendCases())("Outbox on %s", (_name, backend) => {
  let db: Database;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await openMigrated(backend);
    outbox = new Outbox(db.knex);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await resetTables(db);
  });

  /** A time safely after every row's default next_attempt_at (now() on the database clock). */
  const later = (): Date => new Date(Date.now() + seconds(5));

  it("enqueues a row with a uuid id and camelCase fields", async () => {
    const row = await outbox.enqueue(db.knex, msg(ROOM_A, "hello", { sourceEventId: "$src" }));
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row).toMatchObject({
      roomId: ROOM_A,
      sender: BOT,
      type: "m.room.message",
      content: { msgtype: "m.text", body: "hello" },
      sourceEventId: "$src",
      status: "pending",
      attempts: 0,
      lastError: null,
      sentEventId: null,
      sentAt: null,
    });
    expect(row.stateKey).toBeUndefined();
    expect(typeof row.seq).toBe("number");
    expect(row.createdAt).toBeInstanceOf(Date);
    expect(row.nextAttemptAt).toBeInstanceOf(Date);
    expect(await outbox.get(row.id)).toEqual(row);
  });

  it("keeps state events' state key, including the empty one", async () => {
    const state = await outbox.enqueue(db.knex, {
      roomId: ROOM_A,
      sender: BOT,
      type: "m.room.name",
      content: { name: "Timers" },
      stateKey: "",
    });
    expect(state.stateKey).toBe("");
    expect((await outbox.get(state.id))?.stateKey).toBe("");
  });

  it("enqueue joins the caller's transaction", async () => {
    await expect(
      db.knex.transaction(async (trx) => {
        await outbox.enqueue(trx, msg(ROOM_A, "rolled back"));
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await outbox.pendingCount()).toBe(0);
    await db.knex.transaction(async (trx) => {
      await outbox.enqueue(trx, msg(ROOM_A, "committed"));
    });
    expect(await outbox.pendingCount()).toBe(1);
  });

  it("rejects malformed messages", async () => {
    await expect(outbox.enqueue(db.knex, msg("", "x"))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      outbox.enqueue(db.knex, { ...msg(ROOM_A, "x"), content: [] as unknown as Record<string, unknown> }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("is FIFO per room", async () => {
    const a1 = await outbox.enqueue(db.knex, msg(ROOM_A, "a1"));
    const b1 = await outbox.enqueue(db.knex, msg(ROOM_B, "b1"));
    const a2 = await outbox.enqueue(db.knex, msg(ROOM_A, "a2"));
    expect(await outbox.roomsWithDue(later())).toEqual([ROOM_A, ROOM_B]);
    expect((await outbox.headOfRoom(ROOM_A))?.id).toBe(a1.id);
    expect(await outbox.markSent(a1.id, "$e1")).toBe(true);
    expect((await outbox.headOfRoom(ROOM_A))?.id).toBe(a2.id);
    // Room B's head is now the oldest head.
    expect(await outbox.roomsWithDue(later())).toEqual([ROOM_B, ROOM_A]);
    await outbox.markSent(a2.id, "$e2");
    await outbox.markSent(b1.id, "$e3");
    expect(await outbox.headOfRoom(ROOM_A)).toBeNull();
    expect(await outbox.roomsWithDue(later())).toEqual([]);
    expect((await outbox.listForRoom(ROOM_A)).map((r) => r.content.body)).toEqual(["a1", "a2"]);
  });

  it("a head that is backing off blocks only its own room", async () => {
    const a1 = await outbox.enqueue(db.knex, msg(ROOM_A, "a1"));
    await outbox.enqueue(db.knex, msg(ROOM_A, "a2"));
    await outbox.enqueue(db.knex, msg(ROOM_B, "b1"));
    const now = later();
    const retryAt = new Date(now.getTime() + seconds(30));
    expect(await outbox.markRetry(a1.id, "M_LIMIT_EXCEEDED", retryAt)).toBe(true);

    // a2 is due but must wait behind a1.
    expect(await outbox.roomsWithDue(now)).toEqual([ROOM_B]);
    expect((await outbox.headOfRoom(ROOM_A))?.id).toBe(a1.id);
    expect((await outbox.nextDueAt())!.getTime()).toBeLessThanOrEqual(now.getTime());

    const b1 = (await outbox.headOfRoom(ROOM_B))!;
    await outbox.markSent(b1.id, "$b1");
    expect(await outbox.roomsWithDue(now)).toEqual([]);
    expect((await outbox.nextDueAt())?.getTime()).toBe(retryAt.getTime());
    expect(await outbox.roomsWithDue(retryAt)).toEqual([ROOM_A]);

    const retried = await outbox.get(a1.id);
    expect(retried).toMatchObject({ status: "pending", attempts: 1, lastError: "M_LIMIT_EXCEEDED" });
    expect(retried?.nextAttemptAt.getTime()).toBe(retryAt.getTime());
    await outbox.markRetry(a1.id, "again", retryAt);
    expect((await outbox.get(a1.id))?.attempts).toBe(2);
  });

  it("markFailed parks the head so the room moves on", async () => {
    const a1 = await outbox.enqueue(db.knex, msg(ROOM_A, "a1"));
    const a2 = await outbox.enqueue(db.knex, msg(ROOM_A, "a2"));
    await outbox.markRetry(a1.id, "timeout", new Date(Date.now() + seconds(3600)));
    expect(await outbox.roomsWithDue(later())).toEqual([]);
    expect(await outbox.markFailed(a1.id, "M_FORBIDDEN: not in room")).toBe(true);
    expect(await outbox.get(a1.id)).toMatchObject({
      status: "failed",
      attempts: 2,
      lastError: "M_FORBIDDEN: not in room",
    });
    expect(await outbox.roomsWithDue(later())).toEqual([ROOM_A]);
    expect((await outbox.headOfRoom(ROOM_A))?.id).toBe(a2.id);
    // Only pending rows change state.
    expect(await outbox.markSent(a1.id, "$late")).toBe(false);
    expect(await outbox.markRetry(a1.id, "x", new Date())).toBe(false);
    expect(await outbox.markFailed(a1.id, "x")).toBe(false);
  });

  it("markSent records the event id and time", async () => {
    const a1 = await outbox.enqueue(db.knex, msg(ROOM_A, "a1"));
    expect(await outbox.markSent(a1.id, "$sent")).toBe(true);
    const sent = await outbox.get(a1.id);
    expect(sent).toMatchObject({ status: "sent", sentEventId: "$sent" });
    expect(sent?.sentAt).toBeInstanceOf(Date);
    expect(await outbox.markSent(a1.id, "$again")).toBe(false);
  });

  it("counts pending rows and the age of the oldest one", async () => {
    expect(await outbox.pendingCount()).toBe(0);
    expect(await outbox.oldestPendingAgeSeconds()).toBe(0);
    expect(await outbox.nextDueAt()).toBeNull();
    const a1 = await outbox.enqueue(db.knex, msg(ROOM_A, "a1"));
    await outbox.enqueue(db.knex, msg(ROOM_B, "b1"));
    expect(await outbox.pendingCount()).toBe(2);
    const age = await outbox.oldestPendingAgeSeconds(new Date(a1.createdAt.getTime() + seconds(90)));
    expect(age).toBeCloseTo(90, 3);
    await outbox.markSent(a1.id, "$x");
    expect(await outbox.pendingCount()).toBe(1);
  });

  it("returns null / false for unknown or malformed ids", async () => {
    expect(await outbox.get("00000000-0000-4000-8000-000000000000")).toBeNull();
    expect(await outbox.get("not-a-uuid")).toBeNull();
    expect(await outbox.markSent("not-a-uuid", "$x")).toBe(false);
    expect(await outbox.listForRoom("!none:example.org")).toEqual([]);
  });

  it("limits roomsWithDue", async () => {
    for (let i = 0; i < 5; i++) await outbox.enqueue(db.knex, msg(`!r${i}:example.org`, "x"));
    expect(await outbox.roomsWithDue(later(), 3)).toEqual([
      "!r0:example.org",
      "!r1:example.org",
      "!r2:example.org",
    ]);
  });
});
