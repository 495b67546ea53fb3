import type { Knex } from "knex";
import type { FeedPayload } from "./cryptoStore";
import type { ParsedFeeds } from "./feeds";
import type { CatchUpStore } from "./catchUpStore";

export interface FeedRow {
  userId: string;
  deviceId: string;
  payload: FeedPayload;
}

export interface IntakeOptions {
  agentUserIds: ReadonlySet<string>;
  deviceIdOf(userId: string): string;
  /** Our own self-test messages are answered, not fed to a machine. */
  isSelfTest(event: Record<string, unknown>): boolean;
  seen: CatchUpStore;
  /** The device's machine already took in exactly these counts and fallback types. */
  nothingNew?(userId: string, otkCounts?: Record<string, number>, fallbackTypes?: string[]): boolean;
}

/**
 * The crypto_feed rows of a transaction's parsed feeds, one per agent device (in the claim's
 * transaction: the seen digests it records commit with the claim).
 */
export async function feedRows(
  trx: Knex.Transaction,
  feeds: ParsedFeeds,
  opts: IntakeOptions,
): Promise<FeedRow[]> {
  const rows = new Map<string, FeedRow>();
  for (const { userId, deviceId, feed } of feeds.devices.values()) {
    // The agent user's other devices (a login's, say) are not ours to drive.
    if (deviceId !== opts.deviceIdOf(userId)) continue;
    // A message a catch-up took in already (or an earlier transaction) is not taken in again.
    const toDevice = await opts.seen.unseen(
      trx,
      userId,
      feed.toDevice.filter((ev) => !opts.isSelfTest(ev)),
    );
    if (toDevice.length === 0) {
      if (!feed.otkCounts && !feed.fallbackTypes) continue;
      if (opts.nothingNew?.(userId, feed.otkCounts, feed.fallbackTypes)) continue;
    }
    const { otkCounts, fallbackTypes } = feed;
    rows.set(userId, {
      userId,
      deviceId,
      payload: { toDevice, otkCounts, fallbackTypes, changed: [], left: [] },
    });
  }
  if (feeds.changed.length || feeds.left.length) {
    // Device lists concern every machine.
    for (const userId of opts.agentUserIds) {
      const row = rows.get(userId) ?? {
        userId,
        deviceId: "*",
        payload: { toDevice: [], changed: [], left: [] },
      };
      row.payload.changed = feeds.changed;
      row.payload.left = feeds.left;
      rows.set(userId, row);
    }
  }
  return [...rows.values()];
}
