import type { Knex } from "knex";
import type { Database } from "../../src/store/database";
import { migrate } from "../../src/store/migrations";
import { Outbox } from "../../src/store/outbox";
import { ScheduleStore } from "../../src/store/scheduleStore";
import { REMINDERS_MIGRATIONS } from "../../src/agents/reminders/migrations";
import { ReminderStore, nextFiring, sentEventIds, type NewReminder } from "../../src/agents/reminders/store";
import { backendCases, closeTestDatabase, truncate } from "./databases";

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";
const ROOM = "!room:example.org";
const OTHER = "!other:example.org";
const AGENT = "@_agent_reminders:example.org";

const at = (iso: string) => new Date(iso);

/** What ctx.sentEventId does: read the outbox row through the given transaction. */
const lookupIn = (trx: Knex.Transaction) => async (id: string) =>
  (await new Outbox(trx).get(id))?.sentEventId ?? null;

function input(extra: Partial<NewReminder> = {}): NewReminder {
  return {
    owner: ALICE,
    roomId: ROOM,
    message: "stretch",
    mentionRoom: false,
    zone: "Europe/Berlin",
    nextDueAt: at("2026-03-29T07:00:00Z"),
    ...extra,
  };
}

describe.each(backendCases())("Reminder store on %s", (_name, backend) => {
  let db: Database;
  let store: ReminderStore;

  beforeAll(async () => {
    db = await backend.open();
    try {
      const { applied } = await migrate(db, [{ owner: "reminders", migrations: REMINDERS_MIGRATIONS }]);
      expect(applied).toContain("reminders/001_reminders");
    } catch (err) {
      await closeTestDatabase(db);
      throw err;
    }
    store = new ReminderStore(db.knex);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await truncate(db, [
      "reminders",
      "reminder_subscribers",
      "reminder_messages",
      "outbox",
      "scheduled_items",
    ]);
  });

  it("migrates once: a second run applies nothing", async () => {
    const { applied } = await migrate(db, [{ owner: "reminders", migrations: REMINDERS_MIGRATIONS }]);
    expect(applied).toEqual([]);
  });

  it("creates reminders with short ids and reads them back, recurrence included", async () => {
    const recurrence = { type: "cron" as const, expr: "0 9 * * 1-5", zone: "Europe/Berlin" };
    const r = await store.create(input({ recurrence, message: "stand\u0000up", sourceEventId: "$src" }));
    expect(r.id).toMatch(/^[0-9a-hjkmnp-tv-z]{5}$/);
    expect(r).toMatchObject({
      owner: ALICE,
      roomId: ROOM,
      message: "stand\uFFFDup",
      status: "active",
      mentionRoom: false,
      recurrence,
      zone: "Europe/Berlin",
      nextDueAt: at("2026-03-29T07:00:00Z"),
      itemId: null,
      firedCount: 0,
      lastFiredAt: null,
    });
    expect(await store.get(r.id)).toEqual(r);
    expect(await store.get("zzzzz")).toBeNull();
  });

  it("picks another id when the first one is taken", async () => {
    const ids = ["aaaaa", "aaaaa", "bbbbb"];
    const fixed = new ReminderStore(db.knex, () => ids.shift()!);
    expect((await fixed.create(input())).id).toBe("aaaaa");
    expect((await fixed.create(input())).id).toBe("bbbbb");
    const stuck = new ReminderStore(db.knex, () => "aaaaa");
    await expect(stuck.create(input())).rejects.toThrow(/free reminder id/);
  });

  it("counts and lists active reminders, soonest first (snoozes included)", async () => {
    const late = await store.create(input({ nextDueAt: at("2026-04-01T00:00:00Z") }));
    const soon = await store.create(input({ nextDueAt: at("2026-03-30T00:00:00Z") }));
    const elsewhere = await store.create(input({ roomId: OTHER, nextDueAt: at("2026-03-31T00:00:00Z") }));
    const bobs = await store.create(input({ owner: BOB, nextDueAt: at("2026-03-29T00:00:00Z") }));
    const done = await store.create(input());
    await store.markFired(done.id, at("2026-03-29T07:00:00Z"), null);
    await store.setSnooze(late.id, "00000000-0000-4000-8000-000000000001", at("2026-03-29T12:00:00Z"));

    expect(await store.countActive(ALICE)).toBe(3);
    expect((await store.listForOwner(ALICE)).map((r) => r.id)).toEqual([late.id, soon.id, elsewhere.id]);
    expect((await store.listForOwner(ALICE, ROOM)).map((r) => r.id)).toEqual([late.id, soon.id]);
    expect((await store.listForRoom(ROOM)).map((r) => r.id)).toEqual([bobs.id, late.id, soon.id]);
    expect(nextFiring((await store.get(late.id))!)).toEqual(at("2026-03-29T12:00:00Z"));
  });

  it("records firings: recurring ones move on, one-offs become done", async () => {
    const rec = await store.create(
      input({
        recurrence: { type: "cron", expr: "0 9 * * *", zone: "UTC" },
        nextDueAt: at("2026-03-29T09:00:00Z"),
      }),
    );
    await store.markFired(rec.id, at("2026-03-29T09:00:01Z"), at("2026-03-30T09:00:00Z"));
    expect(await store.get(rec.id)).toMatchObject({
      status: "active",
      firedCount: 1,
      lastFiredAt: at("2026-03-29T09:00:01Z"),
      nextDueAt: at("2026-03-30T09:00:00Z"),
    });
    const once = await store.create(input());
    await store.setItem(once.id, "00000000-0000-4000-8000-000000000002");
    await store.markFired(once.id, at("2026-03-29T07:00:00Z"), null);
    expect(await store.get(once.id)).toMatchObject({
      status: "done",
      nextDueAt: null,
      itemId: null,
      firedCount: 1,
    });
    await store.reschedule(once.id, at("2026-03-29T07:15:00Z"), "00000000-0000-4000-8000-000000000003");
    expect(await store.get(once.id)).toMatchObject({
      status: "active",
      nextDueAt: at("2026-03-29T07:15:00Z"),
      itemId: "00000000-0000-4000-8000-000000000003",
    });
    await store.cancel(once.id);
    expect((await store.get(once.id))!.status).toBe("cancelled");
    expect(await store.countActive(ALICE)).toBe(1);
  });

  it("changes a recurrence's zone and lists the owner's recurring reminders", async () => {
    const rec = await store.create(input({ recurrence: { type: "cron", expr: "0 9 * * *", zone: "UTC" } }));
    await store.create(input());
    expect((await store.recurringForOwner(ALICE)).map((r) => r.id)).toEqual([rec.id]);
    await store.setRecurrence(
      rec.id,
      { type: "cron", expr: "0 9 * * *", zone: "Asia/Tokyo" },
      at("2026-03-30T00:00:00Z"),
    );
    expect(await store.get(rec.id)).toMatchObject({
      zone: "Asia/Tokyo",
      recurrence: { zone: "Asia/Tokyo" },
      nextDueAt: at("2026-03-30T00:00:00Z"),
    });
  });

  it("locks a row for update inside a transaction", async () => {
    const r = await store.create(input());
    await db.knex.transaction(async (trx) => {
      const locked = await new ReminderStore(trx).getForUpdate(r.id);
      expect(locked?.id).toBe(r.id);
      await new ReminderStore(trx).cancel(r.id);
    });
    expect((await store.get(r.id))!.status).toBe("cancelled");
  });

  it("subscribes once per user and unsubscribes by reaction id or by user", async () => {
    const r = await store.create(input());
    expect(await store.subscribe(r.id, BOB, "$react1")).toBe(true);
    expect(await store.subscribe(r.id, BOB, "$react2")).toBe(false); // refreshes the reaction id
    expect(await store.subscribe(r.id, "@carol:example.org", "$react3")).toBe(true);
    expect(await store.subscribers(r.id)).toEqual([BOB, "@carol:example.org"]);
    expect(await store.subscriberCounts([r.id, "nope0"])).toEqual(new Map([[r.id, 2]]));
    expect(await store.unsubscribeByReaction("$react1")).toBeNull();
    expect(await store.unsubscribeByReaction("$react2")).toEqual({ reminderId: r.id, userId: BOB });
    expect(await store.unsubscribe(r.id, "@carol:example.org")).toBe(true);
    expect(await store.unsubscribe(r.id, "@carol:example.org")).toBe(false);
    expect(await store.subscribers(r.id)).toEqual([]);
  });

  it("finds the reminder behind one of our messages once the outbox has sent it", async () => {
    const r = await store.create(input());
    const outbox = new Outbox(db.knex);
    const row = await outbox.enqueue(db.knex, {
      roomId: ROOM,
      sender: AGENT,
      type: "m.room.message",
      content: { msgtype: "m.notice", body: "confirmation" },
    });
    await store.addMessage(row.id, r.id, ROOM, "confirmation");
    await db.knex.transaction(async (trx) => {
      const resolve = (ids: string[]) => sentEventIds(lookupIn(trx), ids);
      // Not sent yet: unknown.
      expect(await new ReminderStore(trx).reminderForEvent("$confirm", ROOM, resolve)).toBeNull();
    });
    await outbox.markSent(row.id, "$confirm");
    await db.knex.transaction(async (trx) => {
      const resolve = jest.fn((ids: string[]) => sentEventIds(lookupIn(trx), ids));
      const s = new ReminderStore(trx);
      expect(await s.reminderForEvent("$confirm", OTHER, resolve)).toBeNull(); // another room
      expect(await s.reminderForEvent("$confirm", ROOM, resolve)).toEqual({
        reminderId: r.id,
        kind: "confirmation",
      });
      resolve.mockClear();
      // Remembered: the second lookup does not need the outbox.
      expect(await s.reminderForEvent("$confirm", ROOM, resolve)).toEqual({
        reminderId: r.id,
        kind: "confirmation",
      });
      expect(resolve).not.toHaveBeenCalled();
    });
  });

  it("reads sent event ids of outbox rows in the caller's transaction", async () => {
    const outbox = new Outbox(db.knex);
    const msg = { roomId: ROOM, sender: AGENT, type: "m.room.message", content: { body: "x" } };
    const a = await outbox.enqueue(db.knex, msg);
    const b = await outbox.enqueue(db.knex, msg);
    await outbox.markSent(a.id, "$a");
    await db.knex.transaction(async (trx) => {
      expect(await sentEventIds(lookupIn(trx), [a.id, b.id])).toEqual(new Map([[a.id, "$a"]]));
      expect(await sentEventIds(lookupIn(trx), [])).toEqual(new Map());
    });
  });

  it("moves active reminders on room upgrade and leaves finished ones", async () => {
    const active = await store.create(input());
    const finished = await store.create(input());
    await store.cancel(finished.id);
    expect(await store.moveRoom(ROOM, OTHER)).toBe(1);
    expect((await store.get(active.id))!.roomId).toBe(OTHER);
    expect((await store.get(finished.id))!.roomId).toBe(ROOM);
    expect(await store.moveRoom(ROOM, OTHER)).toBe(0);
  });

  it("deleting a reminder deletes its subscribers and messages", async () => {
    const r = await store.create(input());
    await store.subscribe(r.id, BOB, "$r");
    await store.addMessage("00000000-0000-4000-8000-000000000009", r.id, ROOM, "delivery");
    await db.knex("reminders").where({ id: r.id }).delete();
    expect(Number((await db.knex("reminder_subscribers").count({ n: "*" }).first())!.n)).toBe(0);
    expect(Number((await db.knex("reminder_messages").count({ n: "*" }).first())!.n)).toBe(0);
  });

  it("works with the scheduler's items in one transaction (both commit or neither)", async () => {
    const schedules = new ScheduleStore(db.knex);
    await expect(
      db.knex.transaction(async (trx) => {
        const s = new ReminderStore(trx);
        const r = await s.create(input());
        await s.setItem(r.id, await schedules.add(trx, "reminders", r.nextDueAt!, { reminderId: r.id }));
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await store.countActive(ALICE)).toBe(0);
    expect(await schedules.countPending("reminders")).toBe(0);
  });
});
