import type { Knex } from "knex";
import { ParkedMessages } from "./parkedMessages";
import type { AgentPauses } from "./agentPauses";
import { plural, span, utc } from "./format";

export interface AdminAgent {
  id: string;
  userId: string;
  displayName: string;
  command: string;
}

/** What only a running bridge knows; absent when the CLI reads a stopped bridge's database. */
export interface LiveFacts {
  version: string;
  startedAt: Date;
  database: string;
  /** The last homeserver check (made just before the command ran, outside any transaction). */
  homeserver: { ok: boolean; detail: string };
  commandsLastHour(agentId: string): number;
}

export interface StatusFigures {
  rooms: Map<string, number>;
  inbox: number;
  pending: number;
  oldestPendingMs: number;
  parked: number;
  parkedByReason: Map<string, number>;
  scheduled: number;
  due: number;
  nextDue: Date | null;
}

/** The figures `status` shows, read in one go from the database. */
export async function statusFigures(db: Knex, now: Date): Promise<StatusFigures> {
  const rooms = new Map<string, number>();
  const roomRows = (await db("outbox")
    .select("sender")
    .countDistinct({ n: "room_id" })
    .groupBy("sender")) as { sender: string; n: string | number }[];
  for (const row of roomRows) rooms.set(row.sender, Number(row.n));
  const inbox = (await db("inbound_events").where({ status: "claimed" }).count({ n: "*" }).first()) as {
    n: string | number;
  };
  const pending = (await db("outbox")
    .where({ status: "pending" })
    .select(db.raw("CAST(count(*) AS integer) as n"), db.raw("min(created_at) as oldest"))
    .first()) as { n: number; oldest: Date | string | null };
  const sched = (await db("scheduled_items")
    .where({ status: "pending" })
    .select(
      db.raw("CAST(count(*) AS integer) as n"),
      db.raw("CAST(count(*) filter (where due_at <= ?) AS integer) as due", [now]),
      db.raw("min(due_at) as next"),
    )
    .first()) as { n: number; due: number; next: Date | string | null };
  const parked = new ParkedMessages(db);
  const parkedByReason = await parked.countByReason();
  return {
    rooms,
    inbox: Number(inbox.n),
    pending: Number(pending.n),
    oldestPendingMs: pending.oldest ? now.getTime() - new Date(pending.oldest).getTime() : 0,
    parked: [...parkedByReason.values()].reduce((a, b) => a + b, 0),
    parkedByReason,
    scheduled: Number(sched.n),
    due: Number(sched.due),
    nextDue: sched.next ? new Date(sched.next) : null,
  };
}

/** The `status` answer (Markdown). */
export function renderStatus(
  f: StatusFigures,
  agents: readonly AdminAgent[],
  pauses: AgentPauses,
  live: LiveFacts | undefined,
  now: Date,
): string {
  const lines: string[] = [];
  if (live) {
    const hs = live.homeserver.ok ? "reachable" : `**unreachable** (${live.homeserver.detail})`;
    lines.push(
      `**matrix-agent-bridge ${live.version}**, up ${span(now.getTime() - live.startedAt.getTime())} · database: ${live.database} · homeserver: ${hs}`,
    );
  } else {
    lines.push("**matrix-agent-bridge is not running** (figures read from its database)");
  }
  lines.push("", "Agents:");
  for (const a of agents) {
    const commands = live ? `, ${plural(live.commandsLastHour(a.id), "command")} in the last hour` : "";
    const paused = pauses.isPaused(a.id) ? " · **paused**" : "";
    lines.push(
      `- ${a.id} (${a.userId}): spoke in ${plural(f.rooms.get(a.userId) ?? 0, "room")}${commands}${paused}`,
    );
  }
  const oldest = f.pending ? `, oldest ${span(f.oldestPendingMs)}` : "";
  const reasons = [...f.parkedByReason].map(([r, n]) => `${n} ${r}`).join(", ");
  const parked = f.parked
    ? `**${plural(f.parked, "parked")}** (${reasons}; \`parked\` lists them)`
    : "0 parked";
  lines.push(
    "",
    `Inbox: ${plural(f.inbox, "event")} waiting · Outbox: ${f.pending} pending${oldest} · ${parked}`,
  );
  const next = f.nextDue
    ? `, next ${utc(f.nextDue)} (${f.nextDue > now ? `in ${span(f.nextDue.getTime() - now.getTime())}` : "due now"})`
    : "";
  lines.push(`Scheduler: ${f.scheduled} pending, ${f.due} due${next}`);
  return lines.join("\n");
}
