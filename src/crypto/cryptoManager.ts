import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { BridgeError, errorMessage } from "../errors";
import type { MatrixEvent } from "../agents/types";
import type { HomeserverClient } from "../appservice/homeserverClient";
import { validateEvents } from "../appservice/eventValidation";
import { isTransientError } from "../queue/retryPolicy";
import { cryptoRuntime, type CryptoWasm } from "./runtime";
import { trackWrites } from "./idbSnapshot";
import { Sealer } from "./sealing";
import { CryptoStore, type FeedPayload } from "./cryptoStore";
import { DeviceLock } from "./deviceLock";
import { RequestSender } from "./requestSender";
import { AgentMachine, type RoomKeyNotice } from "./agentMachine";
import { RoomEncryption } from "./roomEncryption";
import { FEED_FIELDS, hasFeeds, parseFeeds } from "./feeds";

const log = moduleLogger("crypto/manager");

/** The to-device type of the start-up self-test (bridge bot → an agent device → back to us). */
export const SELF_TEST_TYPE = "org.matrix_agent_bridge.self_test";
/** Between two looks at the store while an event waits for its key (the key callback wakes sooner). */
const KEY_POLL_MS = 1000;

export interface CryptoOptions {
  pickleKey: string;
  /** How long an event waits for its room key before the sender is told we could not read it. */
  keyWaitMs: number;
  /** Several processes may share the database (PostgreSQL): device machines take advisory locks. */
  shared: boolean;
  /** The device id of an agent's encrypted device (known before the machines load). */
  deviceIdOf(userId: string): string;
}

export type DecryptOutcome = { event: MatrixEvent } | { failed: string };

interface KeyWaiter {
  roomId: string;
  sessionId: string;
  wake(): void;
}

/**
 * The agents' encrypted devices: one AgentMachine each. Receives the transactions' crypto feeds
 * (durably, in the claim), decrypts room events for the pipeline's prepare step and encrypts the
 * outbox's messages into encrypted rooms.
 */
export class CryptoManager {
  private readonly machines = new Map<string, AgentMachine>();
  private readonly waiters = new Set<KeyWaiter>();
  private readonly selfTests = new Map<string, () => void>();
  private readonly store: CryptoStore;
  private readonly lock: DeviceLock;
  readonly rooms: RoomEncryption;
  private stopped = false;
  private fieldsLogged = false;
  /** False when the homeserver does not deliver the feeds (self-test): behave as with encryption off. */
  active = true;

  private constructor(
    private readonly wasm: CryptoWasm,
    private readonly knex: Knex,
    private readonly client: HomeserverClient,
    private readonly opts: CryptoOptions,
    private readonly agentUserIds: ReadonlySet<string>,
  ) {
    this.store = new CryptoStore(knex, new Sealer(opts.pickleKey));
    this.lock = new DeviceLock(knex, opts.shared);
    this.rooms = new RoomEncryption(client);
  }

  static async create(
    knex: Knex,
    client: HomeserverClient,
    opts: CryptoOptions,
    agentUserIds: readonly string[],
  ): Promise<CryptoManager> {
    const wasm = await cryptoRuntime();
    trackWrites();
    return new CryptoManager(wasm, knex, client, opts, new Set(agentUserIds));
  }

  /** Opens each agent's device (made on the homeserver by `deviceFor`), uploads keys, cross-signs. */
  async start(deviceFor: (userId: string) => Promise<string | undefined>): Promise<void> {
    const started = Date.now();
    const userIds = [...this.agentUserIds];
    for (const userId of userIds) {
      const deviceId = (await this.store.device(userId))?.deviceId ?? (await deviceFor(userId));
      if (!deviceId) throw new BridgeError("CRYPTO_NO_DEVICE", `The homeserver made no device for ${userId}`);
      const sender = new RequestSender(this.wasm, this.client, userId, deviceId);
      const machine = new AgentMachine(this.wasm, this.store, this.lock, sender, (keys) =>
        this.keysArrived(keys),
      );
      this.machines.set(userId, machine);
      await machine.open();
    }
    log.info({ devices: userIds.length, ms: Date.now() - started }, "Encrypted devices ready");
    this.kick(await this.store.usersWithFeed()); // left over by a crash or received by another process
  }

  deviceOf(userId: string): string | undefined {
    return this.machines.get(userId)?.deviceId;
  }

  /** Whether a push may carry crypto feeds (a transaction without events still needs a claim then). */
  mayCarryFeeds(body: Record<string, unknown>): boolean {
    return Object.values(FEED_FIELDS).some((names) => names.some((n) => body[n] !== undefined));
  }

  /**
   * In the claim's transaction: stores what the push brought for our devices (before the 200:
   * the homeserver never sends an acknowledged to-device message again). Works before `start`,
   * so nothing that arrives while the machines load is lost. Returns the users to kick.
   */
  async persistFeeds(trx: Knex.Transaction, body: Record<string, unknown>): Promise<string[]> {
    const feeds = parseFeeds(body, (userId) => this.agentUserIds.has(userId));
    if (feeds.fieldsSeen.length && !this.fieldsLogged) {
      this.fieldsLogged = true;
      log.info({ fields: feeds.fieldsSeen }, "The homeserver sends crypto feeds under these names");
    }
    if (!hasFeeds(feeds)) return [];
    const rows = new Map<string, { userId: string; deviceId: string; payload: FeedPayload }>();
    for (const { userId, deviceId, feed } of feeds.devices.values()) {
      // The agent user's other devices (a login's, say) are not ours to drive.
      if (deviceId !== this.opts.deviceIdOf(userId)) continue;
      const toDevice = feed.toDevice.filter((ev) => !this.isSelfTest(ev));
      if (toDevice.length === 0 && !feed.otkCounts && !feed.fallbackTypes) continue;
      const { otkCounts, fallbackTypes } = feed;
      rows.set(userId, {
        userId,
        deviceId,
        payload: { toDevice, otkCounts, fallbackTypes, changed: [], left: [] },
      });
    }
    if (feeds.changed.length || feeds.left.length) {
      // Device lists concern every machine.
      for (const userId of this.agentUserIds) {
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
    await this.store.addFeeds(trx, [...rows.values()]);
    return [...rows.keys()];
  }

  /** Has the machines consume their stored feeds (in the background). */
  kick(userIds: string[]): void {
    for (const userId of userIds) {
      const machine = this.machines.get(userId);
      if (!machine || this.stopped) continue;
      void machine
        .processFeed()
        .catch((err) =>
          log.warn({ userId, err: errorMessage(err) }, "Could not process the crypto feed yet; will retry"),
        );
    }
  }

  /**
   * The clear event of an m.room.encrypted event, decrypted by the first of `candidates` (agents
   * in the room) that holds its key. An event whose key has not arrived waits for it (the room's
   * later events wait behind it) until `keyWaitMs` after it was sent.
   */
  async decrypt(event: MatrixEvent, candidates: string[]): Promise<DecryptOutcome> {
    const sessionId = String(event.content.session_id ?? "");
    const sentAt = typeof event.origin_server_ts === "number" ? event.origin_server_ts : Date.now();
    const deadline = Math.min(sentAt, Date.now()) + this.opts.keyWaitMs;
    const machines = candidates.map((u) => this.machines.get(u)).filter((m) => m !== undefined);
    if (machines.length === 0) return { failed: "no agent device in the room" };
    for (let logged = false; ;) {
      let lastError: unknown;
      for (const machine of machines) {
        await machine.processFeed();
        try {
          return this.clearEvent(event, await machine.decrypt(event as never, event.room_id));
        } catch (err) {
          if (isTransientError(err)) throw err;
          lastError = err;
        }
      }
      if (!this.isMissingKey(lastError)) return { failed: errorMessage(lastError) };
      if (Date.now() >= deadline) return { failed: "its room key never arrived" };
      if (!logged) {
        log.info(
          { eventId: event.event_id, roomId: event.room_id },
          "Encrypted event waits for its room key",
        );
        logged = true;
      }
      await this.waitForKey(event.room_id, sessionId, Math.min(deadline, Date.now() + KEY_POLL_MS));
      // Stopping: the event stays claimed and is decrypted after the next start.
      if (this.stopped) return new Promise<never>(() => undefined);
    }
  }

  /**
   * An outbox message into an encrypted room, encrypted by its sender's device (the room key
   * shared with every joined member's devices first); undefined when it goes as it is.
   */
  async encryptForRoom(roomId: string, sender: string, type: string, content: Record<string, unknown>) {
    const machine = this.machines.get(sender);
    if (!machine || type === "m.room.encrypted") return undefined;
    if (!(await this.rooms.isEncrypted(roomId, sender))) return undefined;
    const members = await this.client.joinedMembers(roomId, sender);
    const encrypted = await machine.encrypt(roomId, type, content, members);
    return { type: "m.room.encrypted", content: encrypted };
  }

  /**
   * Start-up self-test: the bridge bot sends a to-device message to an agent device and waits for
   * it to come back in a transaction. False when the homeserver does not deliver the feeds.
   */
  async selfTest(botUserId: string, botDeviceId: string | undefined, timeoutMs: number): Promise<boolean> {
    const target = this.machines.values().next().value;
    if (!target) return true;
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      this.selfTests.set(nonce, () => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      await this.client.request(
        "PUT",
        `/_matrix/client/v3/sendToDevice/${encodeURIComponent(SELF_TEST_TYPE)}/${nonce}`,
        {
          userId: botUserId,
          query: { device_id: botDeviceId },
          body: { messages: { [target.userId]: { [target.deviceId]: { nonce } } } },
        },
      );
      return await arrived;
    } finally {
      clearTimeout(timer);
      this.selfTests.delete(nonce);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Waiting events stay claimed; the next start decrypts them.
    this.waiters.clear();
    for (const machine of this.machines.values()) await machine.close().catch(() => undefined);
    this.machines.clear();
  }

  private isSelfTest(ev: Record<string, unknown>): boolean {
    if (ev.type !== SELF_TEST_TYPE) return false;
    const nonce = (ev.content as { nonce?: unknown }).nonce;
    if (typeof nonce === "string") this.selfTests.get(nonce)?.();
    return true;
  }

  private isMissingKey(err: unknown): boolean {
    const { MegolmDecryptionError, DecryptionErrorCode } = this.wasm;
    return (
      err instanceof MegolmDecryptionError &&
      (err.code === DecryptionErrorCode.MissingRoomKey ||
        err.code === DecryptionErrorCode.UnknownMessageIndex)
    );
  }

  private clearEvent(event: MatrixEvent, clear: Record<string, unknown>): DecryptOutcome {
    const content = clear.content as Record<string, unknown> | undefined;
    if (typeof clear.type !== "string" || typeof content !== "object" || content === null)
      return { failed: "the decrypted payload is not an event" };
    if (clear.room_id !== undefined && clear.room_id !== event.room_id)
      return { failed: "the decrypted payload names another room" };
    // Relations travel in the clear, next to the ciphertext.
    const relates = event.content["m.relates_to"];
    const merged = relates && !content["m.relates_to"] ? { ...content, "m.relates_to": relates } : content;
    const { events, rejected } = validateEvents([{ ...event, type: clear.type, content: merged }]);
    if (rejected.length || events.length !== 1)
      return { failed: `invalid decrypted event (${rejected[0]?.reason})` };
    return { event: events[0] };
  }

  private keysArrived(keys: RoomKeyNotice[]): void {
    for (const waiter of this.waiters) {
      if (keys.some((k) => k.roomId === waiter.roomId && k.sessionId === waiter.sessionId)) waiter.wake();
    }
  }

  private waitForKey(roomId: string, sessionId: string, until: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: KeyWaiter = {
        roomId,
        sessionId,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, until - Date.now()));
      this.waiters.add(waiter);
    });
  }
}
