import type { Database } from "../../src/store/database";
import { Outbox, type OutboxMessage } from "../../src/store/outbox";
import { ParkedMessages } from "../../src/admin/parkedMessages";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";
import { ago } from "../../src/store/sqlDialect";

const DAY_MS = 86_400_000;

const ROOM = "!a:example.org";
const AGENT = "@_agent_timer:example.org";

function msg(body: string): OutboxMessage {
  return { roomId: ROOM, sender: AGENT, type: "m.room.message", content: { msgtype: "m.text", body } };
}

describe.each(backendCases())("Parked messages on %s", (_name, backend) => {
  let db: Database;
  let outbox: Outbox;
  let parked: ParkedMessages;
  beforeAll(async () => {
    db = await openMigrated(backend);
    outbox = new Outbox(db.knex);
    parked = new ParkedMessages(db.knex);
  });
  afterAll(async () => closeTestDatabase(db));
  beforeEach(async () => resetTables(db));

  async function park(body: string, error: string): Promise<string> {
    const row = await outbox.enqueue(db.knex, msg(body));
    expect(await outbox.markFailed(row.id, error)).toBe(true);
    return row.id;
  }

  it("lists parked rows oldest first with reason and preview, and counts them by reason", async () => {
    const a = await park("first message", "403 M_FORBIDDEN: User @_agent_timer:example.org not in room");
    const b = await park("x".repeat(100), "404 M_NOT_FOUND: Unknown room");
    await park("third", "403 M_FORBIDDEN: User @_agent_timer:example.org not in room");
    await outbox.enqueue(db.knex, msg("pending, not parked"));
    const { total, rows } = await parked.list(2);
    expect(total).toBe(3);
    expect(rows.map((r) => r.id)).toEqual([a, b]);
    expect(rows[0]).toMatchObject({
      sender: AGENT,
      roomId: ROOM,
      reason: "M_FORBIDDEN",
      preview: "first message",
    });
    expect(rows[1].preview).toHaveLength(58);
    expect(Object.fromEntries(await parked.countByReason())).toEqual({ M_FORBIDDEN: 2, M_NOT_FOUND: 1 });
  });

  it("resolves short ids, refuses bad, unknown and ambiguous ones", async () => {
    const id = await park("one", "403 M_FORBIDDEN: no");
    expect(await parked.resolve(id.slice(0, 8).toUpperCase())).toBe(id);
    await expect(parked.resolve("abc")).rejects.toMatchObject({ code: "ADMIN_BAD_ID" });
    await expect(parked.resolve("'; drop table outbox; --")).rejects.toMatchObject({ code: "ADMIN_BAD_ID" });
    await expect(parked.resolve("ffffffff")).rejects.toMatchObject({ code: "ADMIN_NOT_FOUND" });
    const pending = await outbox.enqueue(db.knex, msg("pending"));
    await expect(parked.resolve(pending.id)).rejects.toMatchObject({ code: "ADMIN_NOT_FOUND" });
  });

  it("retry puts a row back at the head of its room with the same id; discard deletes it", async () => {
    const first = await park("one", "403 M_FORBIDDEN: no");
    const second = await park("two", "403 M_FORBIDDEN: no");
    expect(await parked.retry([first], "@admin:example.org")).toBe(1);
    const head = await outbox.headOfRoom(ROOM);
    expect(head).toMatchObject({ id: first, status: "pending", attempts: 0 });
    expect(await parked.discard(second, "@admin:example.org")).toBe(true);
    expect(await parked.discard(second, "@admin:example.org")).toBe(false);
    expect(await parked.count()).toBe(0);
    await park("three", "500 M_UNKNOWN: x");
    await park("four", "500 M_UNKNOWN: x");
    expect(await parked.retry("all", "@admin:example.org")).toBe(2);
    expect(await outbox.pendingCount()).toBe(3);
  });

  it("pruning keeps parked rows when failed retention is 0 (null)", async () => {
    const id = await park("old", "403 M_FORBIDDEN: no");
    await db
      .knex("outbox")
      .where({ id })
      .update({ created_at: ago(db.knex, 400 * DAY_MS) });
    expect(await outbox.prune(30, null)).toEqual({ sent: 0, failed: 0 });
    expect(await parked.count()).toBe(1);
    expect(await outbox.prune(30, 30)).toEqual({ sent: 0, failed: 1 });
  });
});
