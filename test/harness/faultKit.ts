/**
 * Shared pieces of the fault tests: a human that talks plain client-server HTTP (fast and exact:
 * messages are read back with /messages, the homeserver's own timeline), counting of echo replies,
 * throwaway PostgreSQL databases, and a one-line report per test.
 *
 * Counting: the human sends "<tag> 1" … "<tag> N"; the echo agent answers each with the same text.
 * For each number we count the agent's replies in the room's timeline: delivered = numbers with at
 * least one reply, duplicates = replies beyond the first, lost = numbers without a reply, and the
 * replies must come in the order of the commands.
 */
import { appendFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import type { SynapseHandle } from "./synapse";

export const ECHO = "@_agent_echo:localhost";

export interface TimelineEvent {
  event_id: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  state_key?: string;
  origin_server_ts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Matrix user driven with plain HTTP requests. */
export class RawUser {
  private txn = 0;

  private constructor(
    readonly userId: string,
    private readonly accessToken: string,
    private readonly baseUrl: string,
  ) {}

  static async register(synapse: SynapseHandle, name: string): Promise<RawUser> {
    const localpart = `${name}_${randomBytes(3).toString("hex")}`;
    const { userId, accessToken } = await synapse.registerUser(localpart, "password", false);
    return new RawUser(userId, accessToken, synapse.baseUrl);
  }

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { Authorization: `Bearer ${this.accessToken}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Starts a DM with `agent` (as Element does) and waits until the agent joined and greeted. */
  async openDm(agent = ECHO, timeoutMs = 20_000): Promise<string> {
    const { room_id: roomId } = await this.request<{ room_id: string }>(
      "POST",
      "/_matrix/client/v3/createRoom",
      {
        preset: "trusted_private_chat",
        is_direct: true,
        invite: [agent],
      },
    );
    await this.waitFor(
      roomId,
      (events) => events.some((e) => e.sender === agent && e.type === "m.room.message"),
      timeoutMs,
    );
    return roomId;
  }

  async send(roomId: string, body: string): Promise<string> {
    const txnId = `t${Date.now()}-${this.txn++}`;
    const res = await this.request<{ event_id: string }>(
      "PUT",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`,
      { msgtype: "m.text", body },
    );
    return res.event_id;
  }

  /** Sends "<tag> 1" … "<tag> n" one after the other; returns their event ids. */
  async sendNumbered(roomId: string, tag: string, n: number, from = 1): Promise<string[]> {
    const ids: string[] = [];
    for (let i = from; i < from + n; i++) ids.push(await this.send(roomId, `${tag} ${i}`));
    return ids;
  }

  /** The room's whole timeline, oldest first, as the homeserver stores it. */
  async timeline(roomId: string): Promise<TimelineEvent[]> {
    const out: TimelineEvent[] = [];
    let from: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ dir: "b", limit: "500" });
      if (from) q.set("from", from);
      const page = await this.request<{ chunk: TimelineEvent[]; end?: string }>(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?${q}`,
      );
      out.push(...page.chunk);
      if (!page.end || page.chunk.length === 0) break;
      from = page.end;
    }
    return out.reverse();
  }

  /** Polls the timeline until `done` holds. */
  async waitFor(
    roomId: string,
    done: (events: TimelineEvent[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<TimelineEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = await this.timeline(roomId);
      if (done(events)) return events;
      if (Date.now() > deadline) return events;
      await sleep(200);
    }
  }
}

export interface ReplyCount {
  sent: number;
  delivered: number;
  duplicates: number;
  lost: number;
  /** Replies in the order of the commands (first reply of each number). */
  inOrder: boolean;
  /** Numbers answered, in timeline order (with repeats). */
  sequence: number[];
}

/** Counts the agent's replies "<tag> i" for i = 1..n in a timeline. */
export function countReplies(events: TimelineEvent[], tag: string, n: number, agent = ECHO): ReplyCount {
  const pattern = new RegExp(`^${tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} (\\d+)$`);
  const sequence: number[] = [];
  for (const e of events) {
    if (e.sender !== agent || e.type !== "m.room.message") continue;
    const m = pattern.exec(String(e.content.body ?? ""));
    if (m) sequence.push(Number(m[1]));
  }
  const counts = new Map<number, number>();
  for (const i of sequence) counts.set(i, (counts.get(i) ?? 0) + 1);
  let delivered = 0;
  let duplicates = 0;
  for (let i = 1; i <= n; i++) {
    const c = counts.get(i) ?? 0;
    if (c > 0) delivered++;
    duplicates += Math.max(0, c - 1);
  }
  const firsts = sequence.filter((v, i) => sequence.indexOf(v) === i);
  const inOrder = firsts.every((v, i) => i === 0 || v > firsts[i - 1]);
  return { sent: n, delivered, duplicates, lost: n - delivered, inOrder, sequence };
}

/** Waits until all n replies are there (or the timeout), then a little longer so late duplicates show. */
export async function awaitReplies(
  user: RawUser,
  roomId: string,
  tag: string,
  n: number,
  opts: { timeoutMs?: number; settleMs?: number } = {},
): Promise<ReplyCount> {
  await user.waitFor(
    roomId,
    (events) => countReplies(events, tag, n).delivered === n,
    opts.timeoutMs ?? 30_000,
  );
  await sleep(opts.settleMs ?? 1000);
  return countReplies(await user.timeline(roomId), tag, n);
}

/** Prints one line per fault test (and appends it as JSON to $MAB_FAULT_REPORT when set). */
export function reportFault(test: string, injected: string, counts: object): void {
  const line = { test, injected, ...counts };
  const { sequence: _sequence, ...shown } = line as Record<string, unknown>;
  process.stdout.write(`[fault] ${JSON.stringify(shown)}\n`);
  if (process.env.MAB_FAULT_REPORT)
    appendFileSync(process.env.MAB_FAULT_REPORT, `${JSON.stringify(shown)}\n`);
}

/** A fresh, empty PostgreSQL database on the test server (MAB_TEST_PG_URL or 127.0.0.1:5432). */
export async function createPgDatabase(): Promise<{
  url: string;
  host: string;
  port: number;
  drop(): Promise<void>;
}> {
  const server = new URL(process.env.MAB_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432");
  const name = `mab_fault_${randomBytes(5).toString("hex")}`;
  const admin = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const url = new URL(server);
    url.pathname = "/postgres";
    const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  await admin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    host: server.hostname,
    port: Number(server.port || 5432),
    drop: () =>
      admin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/** The same URL, through another host:port (a TcpProxy). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

/** Values of a Prometheus metric family in an exposition text, keyed by label string ("" for none). */
export function metricValues(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && m[1] === name) out[m[2] ?? ""] = Number(m[3]);
  }
  return out;
}
