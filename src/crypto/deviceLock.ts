import type { Knex } from "knex";
import { BridgeError } from "../errors";
import { withSessionAdvisoryLock } from "../store/advisoryLock";

/** Advisory lock class of device machines (the outbox's room locks use another). */
const DEVICE_LOCK_CLASS = 0x4d414244; // "MABD"
const RETRY_MS = 50;

/**
 * One device's machine is driven by one caller at a time: an in-process queue, and on PostgreSQL
 * also the device's advisory session lock, held on a connection set aside for it (no transaction
 * is open, so the machine's homeserver calls may run while it is held), so two bridge processes
 * sharing the database never drive the same machine at once. The lock dies with its connection:
 * a killed process never blocks a device.
 */
export class DeviceLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly knex: Knex,
    private readonly shared: boolean,
    private readonly waitMs = 60_000,
  ) {}

  async run<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(userId) ?? Promise.resolve();
    const mine = previous
      .catch(() => undefined)
      .then(() => (this.shared ? this.withAdvisoryLock(userId, fn) : fn()));
    const tail = mine.catch(() => undefined);
    this.tails.set(userId, tail);
    void tail.then(() => {
      if (this.tails.get(userId) === tail) this.tails.delete(userId);
    });
    return mine;
  }

  private async withAdvisoryLock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const result = await withSessionAdvisoryLock(this.knex, DEVICE_LOCK_CLASS, userId, fn, {
      waitMs: this.waitMs,
      retryMs: RETRY_MS,
    });
    if (result === "busy") {
      throw new BridgeError("CRYPTO_DEVICE_BUSY", `Another process holds the crypto device of ${userId}`);
    }
    return result;
  }
}
