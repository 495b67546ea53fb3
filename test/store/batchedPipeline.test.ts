/**
 * The batched inbound pipeline on each backend: inert events recorded at claim, a room's events
 * in one transaction with a savepoint each, the prepare step and NeedsHomeserver re-runs outside
 * any transaction, and the claim hook inside the claim's transaction.
 */
import type { Knex } from "knex";
import type { Database } from "../../src/store/database";
import { Inbox } from "../../src/store/inbox";
import { Outbox } from "../../src/store/outbox";
import { EventPipeline } from "../../src/appservice/eventPipeline";
import type { EventEffects } from "../../src/appservice/eventBatch";
import { inTransaction, NeedsHomeserver } from "../../src/store/transactionScope";
import type { MatrixEvent } from "../../src/agents/types";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";
import { isSqlite } from "../../src/store/sqlDialect";

const AGENT = "@_agent_echo:example.org";

const rootIds = new WeakMap<object, string>();
let roots = 0;

/**
 * The id of the database transaction `trx` runs in (savepoints share it). SQLite has no such
 * id, but its one connection runs one transaction at a time: there it is the outermost knex
 * transaction's.
 */
async function transactionId(trx: Knex.Transaction): Promise<string> {
  if (!isSqlite(trx)) {
    const { rows } = await trx.raw<{ rows: { id: string }[] }>("SELECT txid_current()::text AS id");
    return rows[0].id;
  }
  let root = trx as Knex.Transaction & { parentTransaction?: Knex.Transaction };
  while (root.parentTransaction) root = root.parentTransaction;
  if (!rootIds.has(root)) rootIds.set(root, `sqlite-${++roots}`);
  return rootIds.get(root) as string;
}

function ev(room: string, i: number, body = `${room} ${i}`): MatrixEvent {
  return {
    event_id: `$${room}-${i}`,
    room_id: `!${room}:example.org`,
    type: "m.room.message",
    sender: "@alice:example.org",
    content: { body },
  };
}

describe.each(backendCases())("batched pipeline on %s", (_name, backend) => {
  let db: Database;
  let inbox: Inbox;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await openMigrated(backend);
    inbox = new Inbox(db.knex);
    outbox = new Outbox(db.knex);
  });
  afterAll(() => closeTestDatabase(db));
  beforeEach(() => resetTables(db));

  const reply = (trx: Knex.Transaction, event: MatrixEvent) =>
    outbox.enqueue(trx, {
      roomId: event.room_id,
      sender: AGENT,
      type: "m.room.message",
      content: { body: String(event.content.body) },
      sourceEventId: event.event_id,
    });
  const replies = async (room: string) =>
    (await outbox.listForRoom(`!${room}:example.org`)).map((r) => String(r.content.body));

  it("records inert events as handled in the claim; the handler never sees them", async () => {
    const seen: string[] = [];
    const p = new EventPipeline(
      db.knex,
      inbox,
      async (event) => void seen.push(event.event_id),
      () => undefined,
      {},
      {},
      (event) => String(event.content.body).startsWith("chat"),
    );
    await p.recover();
    await p.receive([ev("a", 1, "chat one"), ev("a", 2, "!echo hi"), ev("a", 3, "chat two")]);
    await p.idle();
    expect(seen).toEqual(["$a-2"]);
    expect((await inbox.get("$a-1"))?.status).toBe("handled");
    expect((await inbox.get("$a-3"))?.status).toBe("handled");
    // A replay of an inert event is a duplicate like any other.
    await p.receive([ev("a", 1, "chat one")]);
    await p.idle();
    expect(seen).toEqual(["$a-2"]);
    await p.stop(1000);
  });

  it("handles a room's queued events in one transaction; a failing one is rolled back alone", async () => {
    const p = new EventPipeline(
      db.knex,
      inbox,
      {
        handle: async (event, trx) => {
          // Savepoints share their transaction's id: the replies that commit say which it was.
          await outbox.enqueue(trx, {
            roomId: event.room_id,
            sender: AGENT,
            type: "m.room.message",
            content: { body: String(event.content.body), txid: await transactionId(trx) },
            sourceEventId: event.event_id,
          });
          if (String(event.content.body).includes("boom")) throw new Error("boom");
        },
      },
      () => undefined,
    );
    await p.receive([ev("a", 1), ev("a", 2, "a boom"), ev("a", 3), ev("a", 4)]);
    await p.recover();
    await p.idle();
    const rows = await outbox.listForRoom("!a:example.org");
    expect(rows.map((r) => String(r.content.body))).toEqual(["a 1", "a 3", "a 4"]);
    expect((await inbox.get("$a-2"))?.status).toBe("failed");
    expect((await inbox.counts()).handled).toBe(3);
    expect(new Set(rows.map((r) => r.content.txid)).size).toBe(1);
    await p.stop(1000);
  });

  it("takes, handles and marks a batch in one statement and a commit, with no savepoint unless one fails", async () => {
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => statements.push(q.sql.trim().split(/\s+/)[0].toUpperCase());
    const p = new EventPipeline(
      db.knex,
      inbox,
      async (event, trx) => {
        const body = String(event.content.body);
        if (body.includes("early boom")) throw new Error("boom before writing");
        await reply(trx, event);
        if (body.includes("late boom")) throw new Error("boom after writing");
      },
      () => undefined,
    );
    await p.receive([ev("a", 1), ev("a", 2), ev("a", 3)]);
    db.knex.on("query", onQuery);
    await p.recover();
    await p.idle();
    // The backlog read (a page, then an empty page), then the batch: BEGIN, the take (an UPDATE
    // of the claimed rows), one outbox INSERT per event, COMMIT.
    expect(statements).toEqual([
      "SELECT",
      "SELECT",
      "BEGIN;",
      "UPDATE",
      "INSERT",
      "INSERT",
      "INSERT",
      "COMMIT;",
    ]);
    // The claim (PostgreSQL draws the rows' seq numbers first; SQLite needs no statement for them).
    const claim = isSqlite(db.knex)
      ? ["BEGIN;", "INSERT", "COMMIT;"]
      : ["BEGIN;", "SELECT", "INSERT", "COMMIT;"];
    // A failure before writing anything has nothing to roll back: recorded failed in the same run.
    statements.length = 0;
    await p.receive([ev("a", 4), ev("a", 5, "a early boom")]);
    await p.idle();
    expect(statements).toEqual([...claim, "BEGIN;", "UPDATE", "INSERT", "UPDATE", "COMMIT;"]);
    // A failure after writing: the batch rolls back and runs again with a savepoint per event; the
    // failing one is rolled back to its savepoint and recorded as failed.
    statements.length = 0;
    await p.receive([ev("a", 6), ev("a", 7, "a late boom")]);
    await p.idle();
    db.knex.off("query", onQuery);
    expect(statements).toEqual([
      ...claim,
      ...["BEGIN;", "UPDATE", "INSERT", "INSERT", "ROLLBACK"], // without savepoints
      ...[
        "BEGIN;",
        "UPDATE",
        "SAVEPOINT",
        "INSERT",
        "RELEASE",
        "SAVEPOINT",
        "INSERT",
        "ROLLBACK",
        "UPDATE",
        "COMMIT;",
      ],
    ]);
    expect(await replies("a")).toEqual(["a 1", "a 2", "a 3", "a 4", "a 6"]);
    expect((await inbox.get("$a-5"))?.status).toBe("failed");
    expect((await inbox.get("$a-7"))?.status).toBe("failed");
    await p.stop(1000);
  });

  it("prepares outside any transaction; re-runs a handler that needs the homeserver after fetching outside", async () => {
    const log: string[] = [];
    let cached = false;
    const p = new EventPipeline(
      db.knex,
      inbox,
      {
        prepare: async (event) => {
          log.push(`prepare ${event.event_id} inTransaction=${inTransaction()}`);
          return event.event_id.toUpperCase();
        },
        handle: async (event, trx, effects: EventEffects, prepared) => {
          log.push(`handle ${event.event_id} prepared=${String(prepared)} inTransaction=${inTransaction()}`);
          if (event.event_id === "$a-2" && !cached) {
            throw new NeedsHomeserver("a fact", async () => {
              log.push(`fetch inTransaction=${inTransaction()}`);
              cached = true;
            });
          }
          await reply(trx, event);
          effects.afterCommit(() => log.push(`after ${event.event_id} inTransaction=${inTransaction()}`));
        },
      },
      () => undefined,
    );
    await p.recover();
    await p.receive([ev("a", 1), ev("a", 2), ev("a", 3)]);
    await p.idle();
    expect(await replies("a")).toEqual(["a 1", "a 2", "a 3"]);
    expect(log.filter((l) => l.startsWith("prepare")).every((l) => l.endsWith("inTransaction=false"))).toBe(
      true,
    );
    expect(log.filter((l) => l.startsWith("handle")).every((l) => l.endsWith("inTransaction=true"))).toBe(
      true,
    );
    expect(log).toContain("fetch inTransaction=false");
    expect(log.filter((l) => l.startsWith("after")).every((l) => l.endsWith("inTransaction=false"))).toBe(
      true,
    );
    // $a-1 committed before the fetch; $a-2 ran twice (rolled back once), $a-3 once.
    expect(log.filter((l) => l.startsWith("handle $a-2"))).toHaveLength(2);
    expect(log.filter((l) => l.startsWith("after $a-1"))).toHaveLength(1);
    expect(log.filter((l) => l.startsWith("after $a-2"))).toHaveLength(1);
    await p.stop(1000);
  });

  it("records a handler that keeps needing the homeserver as failed, not in a loop", async () => {
    let fetches = 0;
    const p = new EventPipeline(
      db.knex,
      inbox,
      async () => {
        throw new NeedsHomeserver("never cached", async () => void fetches++);
      },
      () => undefined,
    );
    await p.recover();
    await p.receive([ev("a", 1)]);
    await p.idle();
    expect(fetches).toBe(5);
    expect((await inbox.get("$a-1"))?.status).toBe("failed");
    await p.stop(1000);
  });

  it("runs the claim hook inside the claim's transaction: both commit or neither", async () => {
    const p = new EventPipeline(
      db.knex,
      inbox,
      async () => undefined,
      () => undefined,
    );
    await p.receive([ev("a", 1)], {
      inClaim: async (trx) => {
        expect(inTransaction()).toBe(true);
        await reply(trx, ev("hook", 1));
      },
    });
    expect(await replies("hook")).toEqual(["hook 1"]);
    await expect(
      p.receive([ev("a", 2)], {
        inClaim: async () => {
          throw new Error("hook failed");
        },
      }),
    ).rejects.toThrow("hook failed");
    expect(await inbox.get("$a-2")).toBeNull();
    await p.stop(1000);
  });
});
