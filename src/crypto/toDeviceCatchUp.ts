import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { HomeserverClient } from "../appservice/homeserverClient";
import type { DeviceLock } from "./deviceLock";
import type { CatchUpStore } from "./catchUpStore";
import type { FeedPayload } from "./cryptoStore";

const log = moduleLogger("crypto/catch-up");

/**
 * Nothing but to-device messages: no rooms, presence or account data (a sync without rooms is
 * cheap on the homeserver, whatever the agent's room count).
 */
const TO_DEVICE_ONLY = JSON.stringify({
  room: { rooms: [] },
  presence: { types: [] },
  account_data: { types: [] },
});
/** Synapse returns at most 100 to-device messages per /sync; a backlog takes several rounds. */
const MAX_ROUNDS = 50;
/** Far above Synapse's 100: a broken or hostile answer, not a batch to take in. */
const MAX_PER_SYNC = 1000;

interface Device {
  userId: string;
  deviceId: string;
}

interface SyncAnswer {
  next_batch?: unknown;
  to_device?: { events?: unknown };
}

export interface CatchUpDeps {
  client: HomeserverClient;
  store: CatchUpStore;
  lock: DeviceLock;
  /** Stores a feed row for the device in the caller's transaction (the machines' intake). */
  addFeed(trx: Knex.Transaction, userId: string, deviceId: string, payload: FeedPayload): Promise<void>;
  /** Our own to-device messages (the start-up self-test) are answered here, not fed to a machine. */
  isSelfTest(event: Record<string, unknown>): boolean;
}

/**
 * Reads back the to-device messages a transaction never delivered. Synapse drops the to-device
 * part of a failed transaction, and builds none while it counts the appservice as down, but it
 * keeps every to-device message in the device's inbox until that device acknowledges it by
 * calling /sync with a later since token. So the bridge syncs as the agent's device (as_token,
 * `user_id` and `device_id`: Synapse refuses /sync only to the appservice's own sender), with a
 * filter that leaves nothing but to-device messages and timeout 0. What it gets is stored like a
 * transaction's feed, with the next since token, before that token is ever sent (sending it
 * acknowledges the messages). Runs under the device's lock: one catch-up per device at a time,
 * in this process and across processes sharing the database.
 */
export class ToDeviceCatchUp {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: CatchUpDeps) {}

  /** Catch-ups of these devices, one after the other; a failure is logged (the next one retries). */
  async runAll(devices: readonly Device[], reason: string): Promise<number> {
    let fresh = 0;
    for (const { userId, deviceId } of devices) {
      if (this.stopped) break;
      fresh += await this.run(userId, deviceId, reason).catch((err) => {
        log.warn({ userId, reason, err: errorMessage(err) }, "To-device catch-up failed; will retry");
        return 0;
      });
    }
    return fresh;
  }

  /** A routine catch-up of every device each `ms`; `then` gets the devices that got something. */
  every(ms: number, devices: readonly Device[], then: (userIds: string[]) => void): void {
    const tick = async () => {
      const found: string[] = [];
      for (const device of devices)
        if ((await this.runAll([device], "routine")) > 0) found.push(device.userId);
      if (found.length) then(found);
    };
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick().finally(schedule), ms);
      this.timer.unref();
    };
    schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Returns how many messages were new (not delivered by a transaction or an earlier catch-up). */
  run(userId: string, deviceId: string, reason: string): Promise<number> {
    return this.deps.lock.run(userId, async () => {
      const started = Date.now();
      let fresh = 0;
      let fetched = 0;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const since = await this.deps.store.since(userId);
        const answer = await this.deps.client.request<SyncAnswer>("GET", "/_matrix/client/v3/sync", {
          userId,
          query: {
            device_id: deviceId,
            since,
            timeout: "0",
            set_presence: "offline",
            filter: TO_DEVICE_ONLY,
          },
        });
        const nextBatch = typeof answer.next_batch === "string" ? answer.next_batch : undefined;
        if (!nextBatch) throw new Error("The homeserver's /sync answer has no next_batch");
        const raw = answer.to_device?.events;
        // Never cut a batch short: its next_batch would acknowledge what we dropped.
        if (Array.isArray(raw) && raw.length > MAX_PER_SYNC)
          throw new Error(
            `The homeserver's /sync returned ${raw.length} to-device messages (cap ${MAX_PER_SYNC})`,
          );
        const events = (Array.isArray(raw) ? raw : []).filter(isToDevice);
        fetched += events.length;
        const ours = events.filter((ev) => !this.deps.isSelfTest(ev));
        fresh += await this.deps.store.store(userId, deviceId, ours, nextBatch, (trx, payload) =>
          this.deps.addFeed(trx, userId, deviceId, payload),
        );
        // No messages: the inbox is read to its end (the next call acknowledges what came).
        if (events.length === 0 || nextBatch === since) break;
      }
      await this.deps.store.pruneSeen(userId);
      const level = fresh > 0 ? "info" : "debug";
      log[level]({ userId, reason, fetched, fresh, ms: Date.now() - started }, "To-device catch-up done");
      return fresh;
    });
  }
}

function isToDevice(ev: unknown): ev is Record<string, unknown> {
  if (typeof ev !== "object" || ev === null || Array.isArray(ev)) return false;
  const e = ev as Record<string, unknown>;
  return (
    typeof e.type === "string" &&
    typeof e.sender === "string" &&
    typeof e.content === "object" &&
    e.content !== null &&
    !Array.isArray(e.content)
  );
}
