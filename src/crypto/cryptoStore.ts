import type { Knex } from "knex";
import { BridgeError } from "../errors";
import type { Queryable } from "../store/database";
import type { SnapshotPart } from "./idbSnapshot";
import type { Sealer } from "./sealing";

/** What a transaction brought for one device, as stored in crypto_feed. */
export interface FeedPayload {
  toDevice: Record<string, unknown>[];
  otkCounts?: Record<string, number>;
  fallbackTypes?: string[];
  changed: string[];
  left: string[];
}

export interface FeedRow {
  seq: number;
  payload: FeedPayload;
}

export interface DeviceRow {
  deviceId: string;
  version: number;
  crossSigned: boolean;
}

export interface SaveRequest {
  userId: string;
  deviceId: string;
  /** The version the caller loaded (0: the device is new). */
  expectedVersion: number;
  changed: SnapshotPart[];
  removed: string[];
  /** Feed rows this save consumed. */
  consumed: number[];
  crossSigned?: boolean;
}

/**
 * The durable side of the agents' crypto machines: their store, sealed at rest, one row per part;
 * each save bumps the device's version in the same transaction that deletes the feed rows it
 * consumed, so a crash either keeps the old state with its feed or the new state without it.
 */
export class CryptoStore {
  constructor(
    private readonly knex: Knex,
    private readonly sealer: Sealer,
  ) {}

  async device(userId: string, db: Queryable = this.knex): Promise<DeviceRow | undefined> {
    const row = (await db("crypto_devices").where({ user_id: userId }).first()) as
      { device_id: string; version: string | number; cross_signed: boolean } | undefined;
    return row && { deviceId: row.device_id, version: Number(row.version), crossSigned: !!row.cross_signed };
  }

  async loadParts(userId: string): Promise<SnapshotPart[]> {
    const rows = (await this.knex("crypto_store").where({ user_id: userId }).select("part", "data")) as {
      part: string;
      data: Uint8Array;
    }[];
    return rows.map((r) => ({
      name: r.part,
      data: this.sealer.open(Buffer.from(r.data), place(userId, r.part)),
    }));
  }

  /** Writes a save; returns the new version. Fails when another process saved in between. */
  async save(req: SaveRequest): Promise<number> {
    return this.knex.transaction(async (trx) => {
      let version: number;
      if (req.expectedVersion === 0) {
        const inserted = (await trx("crypto_devices")
          .insert({
            user_id: req.userId,
            device_id: req.deviceId,
            version: 1,
            cross_signed: !!req.crossSigned,
          })
          .onConflict("user_id")
          .ignore()
          .returning("user_id")) as unknown[];
        if (inserted.length === 0) throw conflict(req.userId);
        version = 1;
      } else {
        const updated = (await trx("crypto_devices")
          .where({ user_id: req.userId, version: req.expectedVersion })
          .update({
            version: req.expectedVersion + 1,
            updated_at: trx.fn.now(),
            ...(req.crossSigned !== undefined ? { cross_signed: req.crossSigned } : {}),
          })
          .returning("user_id")) as unknown[];
        if (updated.length === 0) throw conflict(req.userId);
        version = req.expectedVersion + 1;
      }
      for (const part of req.changed) {
        await trx("crypto_store")
          .insert({
            user_id: req.userId,
            part: part.name,
            data: this.sealer.seal(part.data, place(req.userId, part.name)),
          })
          .onConflict(["user_id", "part"])
          .merge(["data"]);
      }
      if (req.removed.length)
        await trx("crypto_store").where({ user_id: req.userId }).whereIn("part", req.removed).del();
      if (req.consumed.length)
        await trx("crypto_feed").where({ user_id: req.userId }).whereIn("seq", req.consumed).del();
      return version;
    });
  }

  /** In the claim's transaction: what a push brought for our devices. */
  async addFeeds(trx: Knex.Transaction, rows: { userId: string; deviceId: string; payload: FeedPayload }[]) {
    if (rows.length === 0) return;
    await trx("crypto_feed").insert(
      rows.map((r) => ({ user_id: r.userId, device_id: r.deviceId, payload: JSON.stringify(r.payload) })),
    );
  }

  /** The device's unconsumed feed, oldest first. */
  async feedFor(userId: string, limit: number): Promise<FeedRow[]> {
    const rows = (await this.knex("crypto_feed")
      .where({ user_id: userId })
      .orderBy("seq")
      .limit(limit)
      .select("seq", "payload")) as { seq: string | number; payload: string }[];
    return rows.map((r) => ({ seq: Number(r.seq), payload: JSON.parse(r.payload) as FeedPayload }));
  }

  /** The newest feed row's seq (0 when none). */
  async lastFeedSeq(): Promise<number> {
    const row = (await this.knex("crypto_feed").max("seq as seq").first()) as
      { seq: string | number | null } | undefined;
    return Number(row?.seq ?? 0);
  }

  /** Users with an unconsumed feed (another process received it, or a crash left it). */
  async usersWithFeed(): Promise<string[]> {
    const rows = (await this.knex("crypto_feed").distinct("user_id")) as { user_id: string }[];
    return rows.map((r) => r.user_id);
  }
}

function place(userId: string, part: string): string {
  return `${userId}\u0000${part}`;
}

function conflict(userId: string): BridgeError {
  return new BridgeError(
    "CRYPTO_STORE_CONFLICT",
    `The crypto store of ${userId} was saved by another process in between; reloading`,
  );
}
