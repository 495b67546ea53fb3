/**
 * Commands handled in their claim's transaction (src/appservice/inlineHandling.ts), on each
 * backend: one commit for the claim, the handling and the reply; a failure falls back to the
 * queued path; a room with events waiting here, or claimed elsewhere, keeps its order.
 */
import type { Knex } from "knex";
import type { Database } from "../../src/store/database";
import { Inbox, type InboundEvent } from "../../src/store/inbox";
import { Outbox } from "../../src/store/outbox";
import { EventPipeline, type EventHandlers } from "../../src/appservice/eventPipeline";
import type { MatrixEvent } from "../../src/agents/types";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";
import { isSqlite } from "../../src/store/sqlDialect";

const AGENT = "@_agent_echo:example.org";

function ev(room: string, i: number, body = `${room} ${i}`): MatrixEvent {
  return {
    event_id: `$${room}-${i}`,
    room_id: `!${room}:example.org`,
    type: "m.room.message",
    sender: "@alice:example.org",
    content: { body },
  };
}

describe.each(backendCases())("handling in the claim on %s", (name, backend) => {
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

  const replies = async (room: string) =>
    (await outbox.listForRoom(`!${room}:example.org`)).map((r) => String(r.content.body));

  /** Echoes every message; "slow" ones are prepared once `release` resolves; "boom" ones fail after writing. */
  function handlers(seen: string[], inline: (e: MatrixEvent) => boolean, release?: Promise<void>) {
    const h: EventHandlers = {
      canHandleInClaim: inline,
      prepare: async (event: MatrixEvent) => {
        if (String(event.content.body).includes("slow")) await release;
      },
      handle: async (event: MatrixEvent, trx: Knex.Transaction) => {
        const body = String(event.content.body);
        await outbox.enqueue(trx, {
          roomId: event.room_id,
          sender: AGENT,
          type: "m.room.message",
          content: { body },
          sourceEventId: event.event_id,
        });
        seen.push(event.event_id);
        if (body.includes("boom")) throw new Error("boom after writing");
      },
    };
    return h;
  }

  const pipeline = (h: EventHandlers, shared = false) =>
    new EventPipeline(db.knex, inbox, h, () => undefined, {}, { orderAcrossProcesses: shared });

  it("handles commands of several rooms in the claim: one transaction, handled before the claim resolves", async () => {
    const seen: string[] = [];
    const p = pipeline(handlers(seen, () => true));
    await p.recover();
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => statements.push(q.sql.trim().split(/\s+/)[0].toUpperCase());
    db.knex.on("query", onQuery);
    await p.receive([ev("a", 1), ev("b", 1), ev("a", 2)]);
    db.knex.off("query", onQuery);
    // Handled and replied to by the time the homeserver would get its 200.
    expect(seen).toEqual(["$a-1", "$b-1", "$a-2"]);
    expect((await inbox.counts()).handled).toBe(3);
    expect(await replies("a")).toEqual(["a 1", "a 2"]);
    // The claim's INSERT (after drawing seq numbers, on PostgreSQL), the three replies, one commit.
    const seqs = isSqlite(db.knex) ? [] : ["SELECT"];
    expect(statements).toEqual(["BEGIN;", ...seqs, "INSERT", "INSERT", "INSERT", "INSERT", "COMMIT;"]);
    // A replay is claimed as a duplicate and handled no more.
    await p.receive([ev("a", 2)]);
    await p.idle();
    expect(seen).toHaveLength(3);
    await p.stop(1000);
  });

  it("a failure after writing rolls the claim back; claimed again, the events are queued and handled once", async () => {
    const seen: string[] = [];
    const p = pipeline(handlers(seen, () => true));
    await p.recover();
    await p.receive([ev("a", 1), ev("a", 2, "a boom"), ev("b", 1)]);
    await p.idle();
    expect(await replies("a")).toEqual(["a 1"]);
    expect(await replies("b")).toEqual(["b 1"]);
    expect((await inbox.get("$a-2"))?.status).toBe("failed");
    expect((await inbox.counts()).handled).toBe(2);
    await p.stop(1000);
  });

  it("keeps a room's order: nothing of a room is handled in the claim while an earlier event of it waits", async () => {
    const seen: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // Only plain messages qualify; the first (a "slow" one) goes through the room's queue.
    const p = pipeline(handlers(seen, (e) => !String(e.content.body).includes("slow"), released));
    await p.recover();
    await p.receive([ev("a", 1, "a slow")]);
    await p.receive([ev("a", 2), ev("b", 1)]);
    expect(seen).toEqual(["$b-1"]); // b had nothing waiting; a's second waits for its first
    release();
    await p.idle();
    expect(seen).toEqual(["$b-1", "$a-1", "$a-2"]);
    expect(await replies("a")).toEqual(["a slow", "a 2"]);
    await p.stop(1000);
  });

  if (name === "postgres") {
    it("with several processes, a room with an event claimed elsewhere takes that one first", async () => {
      const seen: string[] = [];
      // Another process claimed $a-1 and died before handling it.
      await inbox.claim([ev("a", 1) as unknown as InboundEvent]);
      const p = pipeline(
        handlers(seen, () => true),
        true,
      );
      await p.recover(); // (this process is already running: its own backlog drain took $a-1)
      await inbox.claim([ev("c", 1) as unknown as InboundEvent]); // a later one, claimed elsewhere
      await p.receive([ev("c", 2), ev("b", 1)]);
      expect(seen).toEqual(["$a-1", "$b-1"]);
      await p.idle();
      expect(seen).toEqual(["$a-1", "$b-1", "$c-1", "$c-2"]);
      expect(await replies("c")).toEqual(["c 1", "c 2"]);
      await p.stop(1000);
    });
  }
});
