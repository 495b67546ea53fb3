import { createHash, randomBytes } from "node:crypto";
import type { OlmMachine } from "@matrix-org/matrix-sdk-crypto-wasm" with { "resolution-mode": "require" };
import { moduleLogger } from "../logging/logger";
import { faultPoint } from "../faultPoints";
import { errorMessage } from "../errors";
import type { CryptoWasm } from "./runtime";
import type { CryptoStore, FeedPayload } from "./cryptoStore";
import type { DeviceLock } from "./deviceLock";
import type { RequestSender } from "./requestSender";
import { FeedMemory } from "./feedMemory";
import {
  databasesWithPrefix,
  deleteDatabases,
  dumpDatabases,
  restoreDatabases,
  takeDirty,
} from "./idbSnapshot";

const log = moduleLogger("crypto/machine");

const FEED_PAGE = 50;

export interface RoomKeyNotice {
  roomId: string;
  sessionId: string;
}

/**
 * One agent device's OlmMachine. Every call runs under the device's lock with the machine up to
 * date with the database (another process may have saved since: then it is rebuilt from the
 * store). Whatever changes the machine's store is saved before the step that depends on it:
 * consumed feed rows in the same save as the keys they brought, generated one-time keys before
 * they are uploaded (a crash then re-uploads the same keys instead of conflicting ones), an
 * outbound room key before it is shared.
 */
export class AgentMachine {
  private machine?: OlmMachine;
  /** The crypto_devices version our machine reflects; -1 forces a reload. */
  private version = -1;
  private crossSigned = false;
  /**
   * Feed rows up to this seq were stored before our last key upload finished: their one-time-key
   * counts predate it (the homeserver counts when it builds a transaction, which may be before our
   * upload landed). Acting on them would upload again and again, up to the server's limit.
   */
  private countsFence = 0;
  /** The key counts and fallback types the machine last took in. */
  private readonly taken = new FeedMemory();
  private readonly storeName: string;

  constructor(
    private readonly wasm: CryptoWasm,
    private readonly store: CryptoStore,
    private readonly lock: DeviceLock,
    private readonly sender: RequestSender,
    private readonly onRoomKeys: (keys: RoomKeyNotice[]) => void,
  ) {
    // Unique per machine object: two bridges in one process (tests) must not share a store.
    const id = createHash("sha256").update(sender.userId).digest("hex").slice(0, 16);
    this.storeName = `mab-${id}-${randomBytes(4).toString("hex")}`;
  }

  get userId(): string {
    return this.sender.userId;
  }

  get deviceId(): string {
    return this.sender.deviceId;
  }

  /** Under the device's lock, with the machine current. */
  run<T>(fn: (m: OlmMachine) => Promise<T>): Promise<T> {
    return this.lock.run(this.userId, async () => fn(await this.current()));
  }

  /** The push repeats what the machine already took in (see FeedMemory). */
  nothingNew(otkCounts: Record<string, number> | undefined, fallbackTypes: string[] | undefined): boolean {
    return this.taken.nothingNew(otkCounts, fallbackTypes);
  }

  /** Loads (or creates) the device, uploads its keys and cross-signs it. */
  async open(): Promise<{ ed25519: string; curve25519: string }> {
    return this.run(async (m) => {
      await this.flushOutgoing(m);
      if (!this.crossSigned) await this.crossSign(m);
      return { ed25519: m.identityKeys.ed25519.toBase64(), curve25519: m.identityKeys.curve25519.toBase64() };
    });
  }

  /** Consumes the device's stored feed (to-device messages, key counts, device lists). */
  processFeed(): Promise<number> {
    return this.run(async (m) => {
      let total = 0;
      for (;;) {
        const rows = await this.store.feedFor(this.userId, FEED_PAGE);
        if (rows.length === 0) break;
        const merged = mergeFeeds(
          rows.map((r) => (r.seq > this.countsFence ? r.payload : { ...r.payload, otkCounts: undefined })),
        );
        if (merged.otkCounts?.signed_curve25519 !== undefined) this.taken.counts = merged.otkCounts;
        if (merged.fallbackTypes) this.taken.noteFallback(merged.fallbackTypes);
        const counts = this.taken.counts ?? merged.otkCounts ?? {};
        const { UserId, DeviceLists, DecryptionSettings, TrustRequirement } = this.wasm;
        await m.receiveSyncChanges(
          JSON.stringify(merged.toDevice),
          new DeviceLists(
            merged.changed.map((u) => new UserId(u)),
            merged.left.map((u) => new UserId(u)),
          ),
          new Map(Object.entries(counts)),
          merged.fallbackTypes ? new Set(merged.fallbackTypes) : undefined,
          new DecryptionSettings(TrustRequirement.Untrusted),
        );
        faultPoint("mid-decryption");
        await this.save(rows.map((r) => r.seq));
        total += merged.toDevice.length;
        if (rows.length < FEED_PAGE) break;
      }
      // What the machine wants sent now (key uploads, queries) is retried at its next use if the
      // homeserver fails it: the keys taken in above are saved and usable either way.
      await this.flushOutgoing(m).catch((err) =>
        log.warn({ userId: this.userId, err: errorMessage(err) }, "Crypto requests not sent yet; will retry"),
      );
      return total;
    });
  }

  /** The clear event of an m.room.encrypted event; throws the library's error when it cannot. */
  decrypt(event: Record<string, unknown>, roomId: string): Promise<Record<string, unknown>> {
    return this.run(async (m) => {
      const { RoomId, DecryptionSettings, TrustRequirement } = this.wasm;
      const decrypted = await m.decryptRoomEvent(
        JSON.stringify(event),
        new RoomId(roomId),
        new DecryptionSettings(TrustRequirement.Untrusted),
      );
      return JSON.parse(decrypted.event) as Record<string, unknown>;
    });
  }

  /** Shares the room key with the members' devices (first), then encrypts; returns the m.room.encrypted content. */
  encrypt(roomId: string, type: string, content: Record<string, unknown>, members: string[]) {
    return this.run(async (m) => {
      const { UserId, RoomId, EncryptionSettings } = this.wasm;
      // wasm-bindgen moves arrays of its own types: a fresh array for every call.
      const users = () => members.map((u) => new UserId(u));
      await m.updateTrackedUsers(users());
      await this.flushOutgoing(m); // key queries for new members
      const claim = await m.getMissingSessions(users());
      if (claim) {
        await this.save([]);
        await m.markRequestAsSent(claim.id, claim.type, await this.sender.send(claim));
      }
      const shares = await m.shareRoomKey(new RoomId(roomId), users(), new EncryptionSettings());
      await this.save([]);
      for (const share of shares)
        await m.markRequestAsSent(share.id, share.type, await this.sender.send(share));
      const encrypted = await m.encryptRoomEvent(new RoomId(roomId), type, JSON.stringify(content));
      await this.save([]);
      return JSON.parse(encrypted) as Record<string, unknown>;
    });
  }

  /** Whether the device's cross-signing identity signed it (uploaded). */
  get isCrossSigned(): boolean {
    return this.crossSigned;
  }

  async close(): Promise<void> {
    await this.lock.run(this.userId, () => this.unload());
  }

  private async current(): Promise<OlmMachine> {
    const row = await this.store.device(this.userId);
    if (this.machine && row && row.version === this.version) return this.machine;
    await this.unload();
    if (row) {
      // Parts are stored relative to the store name (unique per machine object): put them under ours.
      const parts = await this.store.loadParts(this.userId);
      await restoreDatabases(parts.map((p) => ({ ...p, name: this.storeName + relativePart(p.name) })));
      this.version = row.version;
      this.crossSigned = row.crossSigned;
    } else {
      this.version = 0;
      this.crossSigned = false;
    }
    takeDirty(`${this.storeName}::`); // what the restore wrote is what we just read
    const { OlmMachine, UserId, DeviceId } = this.wasm;
    const machine = await OlmMachine.initialize(
      new UserId(this.userId),
      new DeviceId(this.deviceId),
      this.storeName,
    );
    machine.registerRoomKeyUpdatedCallback(async (infos) => {
      this.onRoomKeys(infos.map((i) => ({ roomId: i.roomId.toString(), sessionId: i.sessionId })));
    });
    this.machine = machine;
    if (!row) {
      log.info({ userId: this.userId, deviceId: this.deviceId }, "New encrypted device");
      await this.save([]); // its identity is durable before anything is uploaded
    } else if (this.version > 0) {
      log.debug({ userId: this.userId, version: this.version }, "Crypto device loaded");
    }
    return machine;
  }

  private async unload(): Promise<void> {
    this.machine?.close();
    this.machine = undefined;
    this.version = -1;
    await deleteDatabases(await databasesWithPrefix(`${this.storeName}::`));
    takeDirty(`${this.storeName}::`);
  }

  /** Saves what the machine wrote since the last save (and the feed rows it consumed). */
  private async save(consumed: number[], crossSigned?: boolean): Promise<void> {
    const dirty = takeDirty(`${this.storeName}::`);
    if (dirty.size === 0 && consumed.length === 0 && crossSigned === undefined && this.version > 0) return;
    const names = await databasesWithPrefix(`${this.storeName}::`);
    // A new device is written whole: the store must restore with every object store it had.
    const parts = (await dumpDatabases(names, this.version === 0 ? undefined : dirty)).filter(
      (p) => !p.name.endsWith("/") || this.version === 0 || [...dirty].some((d) => d.startsWith(p.name)),
    );
    try {
      this.version = await this.store.save({
        userId: this.userId,
        deviceId: this.deviceId,
        expectedVersion: this.version,
        changed: parts.map((p) => ({ ...p, name: relativePart(p.name) })),
        removed: [],
        consumed,
        crossSigned,
      });
      if (crossSigned !== undefined) this.crossSigned = crossSigned;
    } catch (err) {
      // The machine is ahead of the database now: rebuild it from the store on the next call.
      this.version = -1;
      throw err;
    }
  }

  /** Sends what the machine wants sent (key uploads and queries, to-device messages, signatures). */
  private async flushOutgoing(m: OlmMachine): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const requests = await m.outgoingRequests();
      if (requests.length === 0) return;
      await this.save([]);
      for (const request of requests) {
        const response = await this.sender.send(request);
        await m.markRequestAsSent(request.id!, request.type, response);
        if (request.type === this.wasm.RequestType.KeysUpload) {
          this.countsFence = await this.store.lastFeedSeq();
          const counts = (JSON.parse(response) as { one_time_key_counts?: Record<string, number> })
            .one_time_key_counts;
          if (counts) this.taken.counts = counts;
        }
      }
      await this.save([]);
    }
  }

  private async crossSign(m: OlmMachine): Promise<void> {
    const requests = await m.bootstrapCrossSigning(true);
    await this.save([]);
    const upload = requests.uploadKeysRequest as { id: string; type: number; body: string } | undefined;
    if (upload) await m.markRequestAsSent(upload.id, upload.type, await this.sender.send(upload));
    await this.sender.uploadSigningKeys(requests.uploadSigningKeysRequest.body);
    const signatures = requests.uploadSignaturesRequest;
    // The bootstrap's signature upload carries no request id: nothing to mark.
    const signed = await this.sender.send(signatures);
    if (signatures.id) await m.markRequestAsSent(signatures.id, signatures.type, signed);
    await this.save([], true);
    log.info({ userId: this.userId, deviceId: this.deviceId }, "Device cross-signed by its owner");
  }
}

/** `<store name>::<database>/<object store>` → `::<database>/<object store>`. */
function relativePart(name: string): string {
  const at = name.indexOf("::");
  return at >= 0 ? name.slice(at) : name;
}

function mergeFeeds(payloads: FeedPayload[]): FeedPayload {
  const out: FeedPayload = { toDevice: [], changed: [], left: [] };
  const changed = new Set<string>();
  const left = new Set<string>();
  for (const p of payloads) {
    out.toDevice.push(...p.toDevice);
    if (p.otkCounts) out.otkCounts = p.otkCounts;
    if (p.fallbackTypes) out.fallbackTypes = p.fallbackTypes;
    for (const u of p.changed) {
      changed.add(u);
      left.delete(u);
    }
    for (const u of p.left) {
      left.add(u);
      changed.delete(u);
    }
  }
  out.changed = [...changed];
  out.left = [...left];
  return out;
}
