import type { Database } from "../../src/store/database";
import { Inbox, type InboundEvent } from "../../src/store/inbox";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";
import { ago } from "../../src/store/sqlDialect";

const DAY_MS = 86_400_000;

function ev(id: string, extra: Partial<InboundEvent> = {}): InboundEvent {
  return {
    event_id: id,
    room_id: "!room:example.org",
    type: "m.room.message",
    sender: "@alice:example.org",
    content: { body: `body of ${id}` },
    ...extra,
  };
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe.each(backendCases())("Inbox on %s", (_name, backend) => {
  let db: Database;
  let inbox: Inbox;
  beforeAll(async () => {
    db = await openMigrated(backend);
    inbox = new Inbox(db.knex);
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(async () => {
    await resetTables(db);
  });

  it("claims new ids in input order and stores the whole event", async () => {
    expect(await inbox.claim([ev("$b"), ev("$a"), ev("$c")])).toEqual(["$b", "$a", "$c"]);
    const stored = await inbox.get("$a");
    expect(stored).toMatchObject({
      eventId: "$a",
      roomId: "!room:example.org",
      type: "m.room.message",
      sender: "@alice:example.org",
      status: "claimed",
      error: null,
      handledAt: null,
      payload: ev("$a"),
    });
    expect(stored?.receivedAt).toBeInstanceOf(Date);
    expect(typeof stored?.seq).toBe("number");
  });

  it("returns nothing for an empty batch", async () => {
    expect(await inbox.claim([])).toEqual([]);
  });

  it("does not claim replays", async () => {
    expect(await inbox.claim([ev("$a"), ev("$b")])).toEqual(["$a", "$b"]);
    expect(await inbox.claim([ev("$a"), ev("$b")])).toEqual([]);
    await inbox.markHandled(db.knex, "$a");
    expect(await inbox.claim([ev("$a")])).toEqual([]);
  });

  it("dedupes ids within one batch (first occurrence wins)", async () => {
    const first = ev("$x", { content: { body: "first" } });
    const second = ev("$x", { content: { body: "second" } });
    expect(await inbox.claim([first, ev("$y"), second, ev("$y")])).toEqual(["$x", "$y"]);
    expect((await inbox.get("$x"))?.payload.content).toEqual({ body: "first" });
  });

  it("claims only the new part of overlapping batches", async () => {
    expect(await inbox.claim([ev("$1"), ev("$2"), ev("$3")])).toEqual(["$1", "$2", "$3"]);
    expect(await inbox.claim([ev("$3"), ev("$4"), ev("$2"), ev("$5")])).toEqual(["$4", "$5"]);
    expect((await inbox.counts()).claimed).toBe(5);
  });

  it("handles events without optional fields and large batches", async () => {
    expect(await inbox.claim([{ event_id: "$bare" }])).toEqual(["$bare"]);
    expect(await inbox.get("$bare")).toMatchObject({ roomId: null, type: null, sender: null });
    const many = Array.from({ length: 2500 }, (_, i) => ev(`$many${i}`));
    const claimed = await inbox.claim(many);
    expect(claimed).toHaveLength(2500);
    expect(claimed[0]).toBe("$many0");
    expect(claimed[2499]).toBe("$many2499");
    expect(await inbox.claim(many)).toEqual([]);
  });

  it("rejects events without an event_id", async () => {
    await expect(inbox.claim([{ event_id: "" }])).rejects.toMatchObject({ code: "INVALID_EVENT" });
    await expect(inbox.claim([{} as InboundEvent])).rejects.toMatchObject({ code: "INVALID_EVENT" });
  });

  it("claims each id exactly once under concurrent overlapping batches", async () => {
    for (let round = 0; round < 5; round++) {
      const ids = Array.from({ length: 60 }, (_, i) => `$r${round}-${i}`);
      // 10 callers, each with an overlapping window of 24 ids, each in its own random order.
      const batches = Array.from({ length: 10 }, (_, i) =>
        shuffled(ids.slice(i * 4, i * 4 + 24)).map((id) => ev(id)),
      );
      const results = await Promise.all(batches.map((b) => inbox.claim(b)));
      const all = results.flat();
      const expected = new Set(batches.flat().map((e) => e.event_id));
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual([...expected].sort());
    }
    // Everyone with the same batch: the realistic case of a retried appservice transaction.
    const same = Array.from({ length: 50 }, (_, i) => ev(`$same${i}`));
    const sameResults = await Promise.all(Array.from({ length: 10 }, () => inbox.claim(same)));
    expect(sameResults.flat().sort()).toEqual(same.map((e) => e.event_id).sort());
    expect((await inbox.counts()).claimed).toBe(5 * 60 + 50);
  });

  it("markHandled joins the caller's transaction: rollback leaves the event claimed", async () => {
    await inbox.claim([ev("$t")]);
    await expect(
      db.knex.transaction(async (trx) => {
        expect(await inbox.markHandled(trx, "$t")).toBe(true);
        throw new Error("effects failed");
      }),
    ).rejects.toThrow("effects failed");
    expect((await inbox.get("$t"))?.status).toBe("claimed");
    expect((await inbox.unhandled()).map((e) => e.eventId)).toEqual(["$t"]);

    await db.knex.transaction(async (trx) => {
      await inbox.markHandled(trx, "$t");
    });
    const handled = await inbox.get("$t");
    expect(handled?.status).toBe("handled");
    expect(handled?.handledAt).toBeInstanceOf(Date);
  });

  it("markFailed records the error; both return false for unknown ids", async () => {
    await inbox.claim([ev("$f")]);
    expect(await inbox.markFailed(db.knex, "$f", "boom")).toBe(true);
    expect(await inbox.get("$f")).toMatchObject({ status: "failed", error: "boom" });
    expect(await inbox.markFailed(db.knex, "$nope", "x")).toBe(false);
    expect(await inbox.markHandled(db.knex, "$nope")).toBe(false);
  });

  it("lists unhandled events in claim order, with a limit", async () => {
    await inbox.claim([ev("$3"), ev("$1")]);
    await inbox.claim([ev("$2"), ev("$0")]);
    await inbox.markHandled(db.knex, "$1");
    await inbox.markFailed(db.knex, "$2", "bad");
    expect((await inbox.unhandled()).map((e) => e.eventId)).toEqual(["$3", "$0"]);
    expect((await inbox.unhandled(1)).map((e) => e.eventId)).toEqual(["$3"]);
    const seqs = (await inbox.unhandled()).map((e) => e.seq);
    expect(seqs[0]).toBeLessThan(seqs[1]);
  });

  it("replays a batch in arrival order, not id order", async () => {
    await inbox.claim([ev("$z"), ev("$a"), ev("$m")]);
    await inbox.claim([ev("$b"), ev("$a"), ev("$y")]);
    expect((await inbox.unhandled()).map((e) => e.eventId)).toEqual(["$z", "$a", "$m", "$b", "$y"]);
  });

  it("prunes old handled and failed events but never unhandled ones", async () => {
    await inbox.claim([ev("$old-handled"), ev("$old-failed"), ev("$old-claimed"), ev("$new-handled")]);
    await inbox.markHandled(db.knex, "$old-handled");
    await inbox.markFailed(db.knex, "$old-failed", "x");
    await inbox.markHandled(db.knex, "$new-handled");
    await db
      .knex("inbound_events")
      .whereIn("event_id", ["$old-handled", "$old-failed", "$old-claimed"])
      .update({ received_at: ago(db.knex, 8 * DAY_MS) });

    expect(await inbox.prune(7)).toBe(2);
    expect(await inbox.get("$old-handled")).toBeNull();
    expect(await inbox.get("$old-failed")).toBeNull();
    expect((await inbox.get("$old-claimed"))?.status).toBe("claimed");
    expect((await inbox.get("$new-handled"))?.status).toBe("handled");
    expect(await inbox.prune(7)).toBe(0);
    // A pruned id can be claimed again: retention must exceed the homeserver's retry window.
    expect(await inbox.claim([ev("$old-handled")])).toEqual(["$old-handled"]);
    expect(await inbox.prune(0)).toBe(1);
    await expect(inbox.prune(-1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("counts by status", async () => {
    expect(await inbox.counts()).toEqual({ claimed: 0, handled: 0, failed: 0 });
    await inbox.claim([ev("$a"), ev("$b"), ev("$c")]);
    await inbox.markHandled(db.knex, "$a");
    await inbox.markFailed(db.knex, "$b", "e");
    expect(await inbox.counts()).toEqual({ claimed: 1, handled: 1, failed: 1 });
  });
});
