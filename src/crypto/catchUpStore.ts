import { createHash } from "node:crypto";
import type { Knex } from "knex";
import { affectedRows, type Queryable } from "../store/database";
import { ago } from "../store/sqlDialect";
import type { FeedPayload } from "./cryptoStore";

/** Seen digests younger than this are kept even after an acknowledgement (a lagging transaction). */
const SEEN_KEEP_HOURS = 24;

/**
 * The durable side of the to-device catch-up: each device's /sync since token and the digests of
 * the to-device messages taken in. A message comes to us twice when a transaction delivered it
 * and /sync returns it too (Synapse keeps it in the device inbox until a /sync acknowledges it):
 * only its first arrival reaches the machine (a replayed Olm message fails to decrypt, and the
 * library may then "unwedge" the session with a new one).
 */
export class CatchUpStore {
  constructor(private readonly knex: Knex) {}

  /**
   * The messages of `events` not taken in before, recorded as taken in (in the caller's
   * transaction: what it stores and what it records commit together).
   */
  async unseen(
    trx: Knex.Transaction,
    userId: string,
    events: Record<string, unknown>[],
  ): Promise<Record<string, unknown>[]> {
    if (events.length === 0) return [];
    const digests = events.map(toDeviceDigest);
    const fresh = new Set<string>();
    // One multi-row insert; a message twice in one batch counts once.
    const inserted = (await trx("crypto_to_device_seen")
      .insert([...new Set(digests)].map((digest) => ({ user_id: userId, digest })))
      .onConflict(["user_id", "digest"])
      .ignore()
      .returning("digest")) as { digest: string }[];
    for (const row of inserted) fresh.add(row.digest);
    return events.filter((_, i) => fresh.delete(digests[i]));
  }

  async since(userId: string, db: Queryable = this.knex): Promise<string | undefined> {
    const row = (await db("crypto_sync_since").where({ user_id: userId }).first("since")) as
      { since: string } | undefined;
    return row?.since;
  }

  /**
   * What one /sync brought, in one transaction: the new messages as a feed row (the machine takes
   * them in from there, like a transaction's) and the next since token (the next /sync
   * acknowledges these messages, so they must be stored first). Returns how many were new.
   */
  async store(
    userId: string,
    deviceId: string,
    events: Record<string, unknown>[],
    nextBatch: string,
    addFeed: (trx: Knex.Transaction, payload: FeedPayload) => Promise<void>,
  ): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const fresh = await this.unseen(trx, userId, events);
      if (fresh.length) await addFeed(trx, { toDevice: fresh, changed: [], left: [] });
      await trx("crypto_sync_since")
        .insert({ user_id: userId, device_id: deviceId, since: nextBatch })
        .onConflict("user_id")
        .merge({ device_id: deviceId, since: nextBatch, updated_at: trx.fn.now() });
      return fresh.length;
    });
  }

  /**
   * After a catch-up reached the end of the device inbox: a digest older than that can only come
   * back from a transaction lagging behind, which the age margin covers.
   */
  async pruneSeen(userId: string): Promise<number> {
    return affectedRows(
      await this.knex("crypto_to_device_seen")
        .where({ user_id: userId })
        .andWhere("seen_at", "<", ago(this.knex, SEEN_KEEP_HOURS * 3_600_000))
        .del(),
    );
  }
}

/** A to-device message's identity: its sender, type and content (an Olm ciphertext is unique). */
export function toDeviceDigest(event: Record<string, unknown>): string {
  const { sender, type, content } = event;
  return createHash("sha256").update(canonicalJson({ sender, type, content })).digest("base64");
}

/** JSON with sorted keys: the same message serialised by two paths gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
