import type { Knex } from "knex";
import type { Database } from "../../src/store/database";
import { Outbox } from "../../src/store/outbox";
import { ScheduleStore } from "../../src/store/scheduleStore";
import { runAdminCommand, type AdminEnv } from "../../src/admin/adminCommands";
import { AgentPauses } from "../../src/admin/agentPauses";
import type { LiveFacts } from "../../src/admin/statusReport";
import { backendCases, closeTestDatabase, openMigrated, resetTables } from "./databases";

const ROOM = "!room:example.org";
const AGENTS = [
  { id: "reminders", userId: "@_agent_reminders:example.org", displayName: "Reminders", command: "remind" },
  { id: "timer", userId: "@_agent_timer:example.org", displayName: "Timer", command: "timer" },
];

describe.each(backendCases())("Operator commands on %s", (_name, backend) => {
  let db: Database;
  let outbox: Outbox;
  beforeAll(async () => {
    db = await openMigrated(backend);
    outbox = new Outbox(db.knex);
  });
  afterAll(async () => closeTestDatabase(db));
  beforeEach(async () => {
    await resetTables(db);
    await db.knex("agent_pauses").del();
    await db.knex("scheduled_items").del();
  });

  /** Runs a command in a transaction, like the bot and the CLI do, applying follow-ups after commit. */
  async function run(text: string, pauses = new AgentPauses(), live?: LiveFacts, now = new Date()) {
    const followUps: (() => void)[] = [];
    const env = (trx: Knex): AdminEnv => ({
      db: trx,
      agents: AGENTS,
      pauses,
      live,
      now,
      by: "@admin:example.org",
      afterCommit: (fn) => followUps.push(fn),
    });
    const answer = await db.knex.transaction((trx) => runAdminCommand(text, env(trx as unknown as Knex)));
    for (const fn of followUps) fn();
    return answer;
  }

  async function parkOne(body: string, sender = AGENTS[0].userId): Promise<string> {
    const row = await outbox.enqueue(db.knex, {
      roomId: ROOM,
      sender,
      type: "m.room.message",
      content: { msgtype: "m.text", body },
    });
    await outbox.markFailed(row.id, "403 M_FORBIDDEN: User not in room");
    return row.id;
  }

  it("status shows version, uptime, database, homeserver, agents, queues and the scheduler", async () => {
    const now = new Date();
    await parkOne("⏰ stretch");
    await outbox.enqueue(db.knex, {
      roomId: ROOM,
      sender: AGENTS[1].userId,
      type: "m.room.message",
      content: { body: "x" },
    });
    const schedules = new ScheduleStore(db.knex);
    await schedules.add(db.knex, "reminders", new Date(now.getTime() - 5_000), {});
    await schedules.add(db.knex, "reminders", new Date(now.getTime() + 3_600_000), {});
    const live: LiveFacts = {
      version: "1.2.3",
      startedAt: new Date(now.getTime() - 2 * 3_600_000 - 5 * 60_000),
      database: "PostgreSQL",
      homeserver: { ok: true, detail: "ok" },
      commandsLastHour: (id) => (id === "reminders" ? 12 : 0),
    };
    const answer = await run("status", new AgentPauses(), live, now);
    expect(answer).toContain(
      "**matrix-agent-bridge 1.2.3**, up 2 h 5 min · database: PostgreSQL · homeserver: reachable",
    );
    expect(answer).toContain(
      "- reminders (@_agent_reminders:example.org): spoke in 1 room, 12 commands in the last hour",
    );
    expect(answer).toContain(
      "- timer (@_agent_timer:example.org): spoke in 1 room, 0 commands in the last hour",
    );
    expect(answer).toMatch(
      /Inbox: 0 events waiting · Outbox: 1 pending, oldest \d+ s · \*\*1 parked\*\* \(1 M_FORBIDDEN/,
    );
    expect(answer).toMatch(
      /Scheduler: 2 pending, 1 due, next \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(due now\)/,
    );
    expect(await run("status")).toContain("not running");
  });

  it("parked lists each message with agent, room, age and reason; retry and discard act on one", async () => {
    const first = await parkOne("⏰ stretch");
    const second = await parkOne("faq answer", AGENTS[1].userId);
    const listed = await run("parked");
    expect(listed).toContain("**2 parked messages**");
    expect(listed).toContain(`\`${first.slice(0, 8)}\` reminders → \`${ROOM}\``);
    expect(listed).toContain("M_FORBIDDEN: “⏰ stretch”");
    expect(await run(`retry ${first.slice(0, 8)}`)).toMatch(
      /^Put `\w{8}` reminders → .* back in the queue; it is sent once/,
    );
    expect((await outbox.get(first))?.status).toBe("pending");
    expect(await run(`discard ${second.slice(0, 8)}`)).toMatch(/^Discarded `\w{8}` timer → /);
    expect(await outbox.get(second)).toBeNull();
    expect(await run("parked")).toContain("No parked messages");
    expect(await run("retry all")).toBe("No parked messages to retry.");
    expect(await run("retry")).toContain("Say which");
    expect(await run("discard zz")).toContain("is not a message id");
    expect(await run("retry 00000000")).toContain("No parked message with id 00000000");
  });

  it("agent pause is persisted and shown; resume undoes it; mistakes get an explanation", async () => {
    const pauses = new AgentPauses();
    expect(await run("agent timer pause", pauses)).toContain("Paused **timer**");
    expect(pauses.isPaused("timer")).toBe(true);
    expect(await run("agent timer pause", pauses)).toBe("timer is already paused.");
    expect((await new AgentPauses().load(db.knex)).isPaused("timer")).toBe(true);
    expect(await run("agents", pauses)).toContain(
      "- timer: Timer (@_agent_timer:example.org, `!timer`), **paused**",
    );
    expect(await run("agent timer resume", pauses)).toContain("Resumed **timer**");
    expect((await new AgentPauses().load(db.knex)).isPaused("timer")).toBe(false);
    expect(await run("agent nobody pause", pauses)).toContain("agents: reminders, timer");
    expect(await run("agent timer explode", pauses)).toContain("Use `agent <id> pause`");
  });

  it("answers help and unknown commands with the list, and refuses overlong input", async () => {
    expect(await run("help")).toContain("`retry <id>` or `retry all`");
    expect(await run("frobnicate")).toMatch(/^I don't know `frobnicate`/);
    expect(await run(`status ${"x".repeat(400)}`)).toContain("too long");
  });
});
