import type { Database } from "../../src/store/database";
import { ScheduleStore } from "../../src/store/scheduleStore";
import { SchedulerDispatcher, MAX_WAIT_MS } from "../../src/scheduler/dispatcher";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

/**
 * stop() ends a scheduler that is mid-pass after the item being fired, and never starts the
 * next sleep (which is up to MAX_WAIT_MS long): SIGTERM during a burst of due items must stop
 * within delivery.shutdown_grace_ms. Without the fix stop() waited out a whole sleep, which this
 * test (timeout below MAX_WAIT_MS) would catch by timing out.
 */
describe.each(backendCases())("scheduler stop on %s", (_name, backend) => {
  let db: Database;
  let store: ScheduleStore;
  beforeAll(async () => {
    db = await openMigrated(backend);
    store = new ScheduleStore(db.knex);
  });
  afterAll(async () => closeTestDatabase(db));
  // Items of an agent id of this test's own: other store suites share the PostgreSQL database.
  let agent = "";
  beforeEach(async () => {
    await resetTables(db);
    agent = `stoptest-${Math.random().toString(36).slice(2, 10)}`;
  });

  it(
    "stops during a pass after the item in hand; the rest stays due for the next start",
    async () => {
      const due = new Date(Date.now() - 1000);
      for (let i = 0; i < 20; i++) await store.add(db.knex, agent, due, { n: i });
      let entered!: () => void;
      const inHandler = new Promise<void>((r) => (entered = r));
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let fired = 0;
      const scheduler = new SchedulerDispatcher(
        db.knex,
        store,
        [agent],
        async () => {
          fired++;
          if (fired === 2) {
            entered();
            await released;
          }
          return "done";
        },
        () => undefined,
      );
      scheduler.start();
      await inHandler; // the second item of the burst is being fired
      const stopped = scheduler.stop();
      release();
      await stopped;
      expect(fired).toBe(2);
      expect(await store.countPending(agent)).toBe(18);
    },
    MAX_WAIT_MS / 2,
  );

  it(
    "stops at once while asleep until the next due time",
    async () => {
      await store.add(db.knex, agent, new Date(Date.now() + 3_600_000), {});
      const scheduler = new SchedulerDispatcher(
        db.knex,
        store,
        [agent],
        async () => "done",
        () => undefined,
      );
      scheduler.start();
      await new Promise((r) => setTimeout(r, 100)); // let it go to sleep
      await scheduler.stop();
      expect(await store.countPending(agent)).toBe(1);
    },
    MAX_WAIT_MS / 2,
  );
});
