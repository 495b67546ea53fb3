import type { Database } from "../../src/store/database";
import { Outbox } from "../../src/store/outbox";
import { OutboxWorker } from "../../src/queue/outboxWorker";
import type { ParkCode } from "../../src/queue/retryPolicy";
import { HomeserverError } from "../../src/errors";
import { MatrixHttpError, type HomeserverClient } from "../../src/appservice/homeserverClient";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

const ROOM = "!limits:example.org";
const BOT = "@_agent_timer:example.org";

/** A homeserver whose sends fail the way `fail` says, counting the attempts. */
function failingHomeserver(fail: () => Error): { client: HomeserverClient; attempts: () => number } {
  let attempts = 0;
  const client = {
    sendEvent: async () => {
      attempts++;
      throw fail();
    },
  } as unknown as HomeserverClient;
  return { client, attempts: () => attempts };
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(backendCases())("send retry limit on %s", (_name, backend) => {
  let db: Database;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await openMigrated(backend);
    outbox = new Outbox(db.knex);
  });
  afterAll(async () => closeTestDatabase(db));
  beforeEach(async () => resetTables(db));

  const enqueue = (body: string) =>
    outbox.enqueue(db.knex, {
      roomId: ROOM,
      sender: BOT,
      type: "m.room.message",
      content: { msgtype: "m.text", body },
    });

  const worker = (client: HomeserverClient, parked: Array<{ code: ParkCode; reason: string }>) =>
    new OutboxWorker(
      outbox,
      client,
      { concurrency: 2, backoff: { baseMs: 10, maxMs: 20 }, idlePollMs: 20, maxServerErrors: 3 },
      { parked: (_row, reason, code) => parked.push({ code, reason }) },
    );

  it("parks a send that keeps failing with 5xx after delivery.max_server_errors attempts, with its reason", async () => {
    const hs = failingHomeserver(() => new MatrixHttpError(502, "M_UNKNOWN", "bad gateway"));
    const parked: Array<{ code: ParkCode; reason: string }> = [];
    const row = await enqueue("never arrives");
    const w = worker(hs.client, parked);
    w.start();
    await until(async () => (await outbox.get(row.id))?.status === "failed");
    await w.stop(1000);
    expect(hs.attempts()).toBe(3);
    expect(parked).toEqual([
      { code: "server_errors", reason: expect.stringContaining("gave up after 3 failed attempts") },
    ]);
    const stored = await outbox.get(row.id);
    expect(stored).toMatchObject({ status: "failed", attempts: 3 });
    expect(stored?.lastError).toContain("502");
    expect(await outbox.failedCount()).toBe(1);
  });

  it("never parks while the homeserver is unreachable: the message waits for it", async () => {
    const hs = failingHomeserver(() => new HomeserverError("Cannot reach the homeserver: ECONNREFUSED"));
    const parked: Array<{ code: ParkCode; reason: string }> = [];
    const row = await enqueue("waits");
    const w = worker(hs.client, parked);
    w.start();
    await until(async () => hs.attempts() >= 6);
    await w.stop(1000);
    expect(parked).toEqual([]);
    expect((await outbox.get(row.id))?.status).toBe("pending");
  });
});
