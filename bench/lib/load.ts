import { randomBytes } from "node:crypto";
import http from "node:http";

/**
 * Synthetic homeserver traffic: m.room.message events shaped like Synapse's (ids of the same
 * length, the same fields), grouped into transactions of 100 (Synapse's batch size), serialized
 * before the clock starts, and posted one transaction at a time (Synapse has at most one in
 * flight per appservice) with the hs_token, over keep-alive loopback HTTP.
 */

export const TXN_SIZE = 100;
/** Senders rotate over this many users (the per-user command window stays short). */
export const SENDERS = 5000;

export interface BenchEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  unsigned: Record<string, unknown>;
}

const b64 = (bytes: number) => randomBytes(bytes).toString("base64url");

export function eventId(): string {
  return `$${b64(32)}`; // 43 characters after the '$', like Synapse's room v4+ ids
}

export function roomIds(count: number): string[] {
  return Array.from({ length: count }, () => `!${b64(13).slice(0, 18)}:localhost`);
}

export function senderOf(i: number): string {
  return `@bench-user-${i % SENDERS}:localhost`;
}

/** DM rows for these rooms (one owner per room, derived from the room id so keys never clash). */
export function dmRows(rooms: readonly string[]): { roomId: string; userId: string }[] {
  return rooms.map((roomId) => ({ roomId, userId: `@bench-dm-${roomId.slice(1).split(":")[0]}:localhost` }));
}

export function makeEvent(roomId: string, i: number): BenchEvent {
  return {
    event_id: eventId(),
    room_id: roomId,
    type: "m.room.message",
    sender: senderOf(i),
    origin_server_ts: Date.now(),
    content: { msgtype: "m.text", body: `benchmark message number ${i}, a short line of chat` },
    unsigned: { age: 12 },
  };
}

export interface Workload {
  /** Serialized transaction bodies, in posting order. */
  bodies: string[];
  /** Events in all transactions (replays included). */
  posted: number;
  /** Distinct new events (what the agent must see). */
  fresh: number;
}

/**
 * `txns` transactions of 100 events over `rooms` (round robin). With `replayShare` 0.5, half of
 * each transaction are events already delivered in the previous transaction (or in `primer`,
 * events the target has seen before, for the first one), as after a homeserver retry.
 */
export function buildWorkload(
  rooms: readonly string[],
  txns: number,
  replayShare = 0,
  primer: readonly BenchEvent[] = [],
): { workload: Workload; lastFresh: BenchEvent[] } {
  const replayed = Math.round(TXN_SIZE * replayShare);
  const freshPerTxn = TXN_SIZE - replayed;
  const bodies: string[] = [];
  let previous: readonly BenchEvent[] = primer;
  let n = 0;
  let fresh = 0;
  for (let t = 0; t < txns; t++) {
    const events: BenchEvent[] = [];
    for (let k = 0; k < freshPerTxn; k++, n++) events.push(makeEvent(rooms[n % rooms.length], n));
    fresh += events.length;
    const replays = previous.slice(0, replayed);
    if (replays.length < replayed) throw new Error("buildWorkload: not enough earlier events to replay");
    // Interleave replays with fresh events, as a retried batch mixes with new ones.
    const mixed: BenchEvent[] = [];
    for (let k = 0; k < Math.max(events.length, replays.length); k++) {
      if (k < events.length) mixed.push(events[k]);
      if (k < replays.length) mixed.push(replays[k]);
    }
    bodies.push(JSON.stringify({ events: mixed, ephemeral: [] }));
    previous = events;
  }
  return { workload: { bodies, posted: txns * TXN_SIZE, fresh }, lastFresh: [...previous] };
}

/** Posts transactions to an appservice, one at a time, as Synapse does. */
export class TransactionPoster {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private txn = 0;
  private readonly prefix = b64(6);

  constructor(
    private readonly port: number,
    private readonly hsToken: string,
  ) {}

  async postAll(bodies: readonly string[]): Promise<void> {
    for (const body of bodies) await this.post(body);
  }

  /**
   * One transaction. A kept-alive socket that the server closed while idle (Node's 5 s
   * keepAliveTimeout, between the scaling bench's stretches) fails with "socket hang up" on reuse:
   * that one is sent again with the same txnId, as Synapse would retry it.
   */
  async post(body: string): Promise<void> {
    const txnId = `${this.prefix}-${++this.txn}`;
    try {
      await this.send(txnId, body);
    } catch (err) {
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      await this.send(txnId, body);
    }
  }

  private send(txnId: string, body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: this.port,
          method: "PUT",
          path: `/_matrix/app/v1/transactions/${txnId}`,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.hsToken}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode === 200) resolve();
            else
              reject(
                new Error(`transaction ${txnId}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`),
              );
          });
        },
      );
      req.on("error", (err: Error & { code?: string }) =>
        reject(
          Object.assign(err, {
            reusedSocket: req.reusedSocket && (err.code === "ECONNRESET" || /hang up/.test(err.message)),
          }),
        ),
      );
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
