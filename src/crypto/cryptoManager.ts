import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { BridgeError, errorMessage } from "../errors";
import type { MatrixEvent } from "../agents/types";
import type { HomeserverClient } from "../appservice/homeserverClient";
import { isTransientError } from "../queue/retryPolicy";
import { cryptoRuntime, type CryptoWasm } from "./runtime";
import { trackWrites } from "./idbSnapshot";
import { Sealer } from "./sealing";
import { CryptoStore } from "./cryptoStore";
import { DeviceLock } from "./deviceLock";
import { RequestSender } from "./requestSender";
import { AgentMachine } from "./agentMachine";
import { RoomEncryption } from "./roomEncryption";
import { FEED_FIELDS, hasFeeds, parseFeeds } from "./feeds";
import { feedRows } from "./feedIntake";
import { clearEvent } from "./clearEvent";
import { CatchUpStore } from "./catchUpStore";
import { ToDeviceCatchUp } from "./toDeviceCatchUp";
import { KeyWaiters } from "./keyWaiters";
import { refuseLostStore } from "./lostStore";

const log = moduleLogger("crypto/manager");

/** The to-device type of the start-up self-test (bridge bot → an agent device → back to us). */
export const SELF_TEST_TYPE = "org.matrix_agent_bridge.self_test";
/** Between two looks at the store while an event waits for its key (the key callback wakes sooner). */
const KEY_POLL_MS = 1000;
/** Between two to-device catch-ups while an event waits for its key. */
const CATCH_UP_WHILE_WAITING_MS = 15_000;
/**
 * Between two routine catch-ups of a device: they acknowledge what transactions delivered, so
 * the homeserver's device inbox (kept until a /sync acknowledges it) and our seen digests stay small.
 */
const CATCH_UP_EVERY_MS = 60 * 60_000;

export interface CryptoOptions {
  pickleKey: string;
  /** How long an event waits for its room key before the sender is told we could not read it. */
  keyWaitMs: number;
  /** Several processes may share the database (PostgreSQL): device machines take advisory locks. */
  shared: boolean;
  /** The device id of an agent's encrypted device (known before the machines load). */
  deviceIdOf(userId: string): string;
}

export type { DecryptOutcome } from "./clearEvent";
import type { DecryptOutcome } from "./clearEvent";

/**
 * The agents' encrypted devices: one AgentMachine each. Receives the transactions' crypto feeds
 * (durably, in the claim), decrypts room events for the pipeline's prepare step and encrypts the
 * outbox's messages into encrypted rooms.
 */
export class CryptoManager {
  private readonly machines = new Map<string, AgentMachine>();
  private readonly waiters = new KeyWaiters();
  private readonly selfTests = new Map<string, () => void>();
  private readonly store: CryptoStore;
  private readonly lock: DeviceLock;
  private readonly seen: CatchUpStore;
  private readonly catchUp: ToDeviceCatchUp;
  readonly rooms: RoomEncryption;
  private stopped = false;
  private fieldsLogged = false;
  private feedsSeen = false;
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
    this.seen = new CatchUpStore(knex);
    this.catchUp = new ToDeviceCatchUp({
      client,
      store: this.seen,
      lock: this.lock,
      addFeed: (trx, userId, deviceId, payload) => this.store.addFeeds(trx, [{ userId, deviceId, payload }]),
      // Only a transaction answers the self-test (it asks whether transactions carry the feeds).
      isSelfTest: (ev) => ev.type === SELF_TEST_TYPE,
    });
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
      const row = await this.store.device(userId);
      const deviceId = row?.deviceId ?? (await deviceFor(userId));
      if (!deviceId) throw new BridgeError("CRYPTO_NO_DEVICE", `The homeserver made no device for ${userId}`);
      if (!row) await refuseLostStore(this.client, userId, deviceId);
      const sender = new RequestSender(this.wasm, this.client, userId, deviceId);
      const machine = new AgentMachine(this.wasm, this.store, this.lock, sender, (keys) =>
        this.waiters.arrived(keys),
      );
      this.machines.set(userId, machine);
      await machine.open();
    }
    log.info({ devices: userIds.length, ms: Date.now() - started }, "Encrypted devices ready");
    // Left by a crash or another process; proof that the homeserver delivers feeds (self-test).
    const leftOver = await this.store.usersWithFeed();
    if (leftOver.length) this.feedsSeen = true;
    // What transactions never delivered while we were down or dying (room keys among them).
    const devices = [...this.machines.values()];
    await this.catchUp.runAll(devices, "start-up");
    this.kick(await this.store.usersWithFeed());
    this.catchUp.every(CATCH_UP_EVERY_MS, devices, (userIds) => this.kick(userIds));
  }

  /** Whether a push may carry crypto feeds (a transaction without events still needs a claim then). */
  mayCarryFeeds(body: Record<string, unknown>): boolean {
    const carries = Object.values(FEED_FIELDS).some((names) => names.some((n) => body[n] !== undefined));
    // Any of these fields proves that the homeserver delivers the feeds (the self-test's answer).
    if (carries && !this.feedsSeen) {
      this.feedsSeen = true;
      for (const wake of this.selfTests.values()) wake();
    }
    return carries;
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
    const rows = await feedRows(trx, feeds, {
      agentUserIds: this.agentUserIds,
      deviceIdOf: this.opts.deviceIdOf,
      isSelfTest: (ev) => this.isSelfTest(ev),
      seen: this.seen,
      nothingNew: (userId, counts, fallback) =>
        this.machines.get(userId)?.nothingNew(counts, fallback) === true,
    });
    await this.store.addFeeds(trx, rows);
    return rows.map((r) => r.userId);
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
    let nextCatchUp = 0;
    for (let logged = false; ;) {
      let lastError: unknown;
      for (const machine of machines) {
        await machine.processFeed();
        try {
          return clearEvent(event, await machine.decrypt(event as never, event.room_id));
        } catch (err) {
          if (isTransientError(err)) throw err;
          lastError = err;
        }
      }
      if (!this.isMissingKey(lastError)) return { failed: errorMessage(lastError) };
      if (Date.now() >= deadline) return { failed: "its room key never arrived" };
      // The key may sit in the homeserver's device inbox, its transaction lost (a crash, an outage).
      if (Date.now() >= nextCatchUp) {
        nextCatchUp = Date.now() + CATCH_UP_WHILE_WAITING_MS;
        if ((await this.catchUp.runAll(machines, "missing room key")) > 0) continue;
      }
      if (!logged) {
        log.info(
          { eventId: event.event_id, roomId: event.room_id },
          "Encrypted event waits for its room key",
        );
        logged = true;
      }
      await this.waiters.wait(event.room_id, sessionId, Math.min(deadline, Date.now() + KEY_POLL_MS));
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
   * it (or any transaction carrying feed fields) to come back. False when the homeserver does not
   * deliver the feeds. A homeserver backing off after the bridge was down may take a while: any
   * transaction with the fields settles it.
   */
  async selfTest(botUserId: string, botDeviceId: string | undefined, timeoutMs: number): Promise<boolean> {
    const target = this.machines.values().next().value;
    // A transaction with feed fields arrived already (after a restart, the homeserver's backlog).
    if (!target || this.feedsSeen) return true;
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
    this.catchUp.stop();
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
}
