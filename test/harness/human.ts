/**
 * A "human" Matrix user for end-to-end tests, driven by the real matrix-js-sdk (as Element is).
 *
 * matrix-js-sdk is ESM-only and this project is CommonJS: it is loaded with a real dynamic
 * `import()` (TypeScript keeps it under `module: Node16`), which Jest supports when Node runs with
 * `--experimental-vm-modules`. Its types are imported with `resolution-mode: "import"`.
 *
 * Every timeline event the client sees is recorded per room as it arrives, so `waitForEvent`
 * also finds events that arrived before the call (no race between acting and waiting).
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type * as Sdk from "matrix-js-sdk" with { "resolution-mode": "import" };
import type { SynapseHandle } from "./synapse";

export type MatrixClient = Sdk.MatrixClient;
export type CreateRoomOpts = Sdk.ICreateRoomOpts;
type SdkLogger = NonNullable<Sdk.ICreateClientOpts["logger"]>;

/** A timeline event as a plain object (the wire format, as the client received it). */
export interface PlainEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  state_key?: string;
  origin_server_ts: number;
  unsigned?: Record<string, unknown>;
  redacts?: string;
  /** Set for events that came encrypted (encrypted humans): whether they decrypted. */
  encrypted?: { decrypted: boolean; failed?: boolean };
}

export interface InviteInfo {
  roomId: string;
  /** Sender of our invite event, when known. */
  inviter: string | undefined;
  /** `is_direct` on our invite event. */
  isDirect: boolean;
}

export interface Human {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
  /** The started matrix-js-sdk client. */
  client: MatrixClient;
  /** The matrix-js-sdk module itself (enums, helpers). */
  sdk: typeof Sdk;
  /** Creates a room; resolves once our sync shows us joined. Returns the room id. */
  createRoom(opts?: CreateRoomOpts): Promise<string>;
  /** Creates a DM as Element does: is_direct invite, trusted_private_chat, m.direct account data. */
  createDm(withUserId: string): Promise<string>;
  /** Sends m.room.message m.text; returns the event id. */
  sendText(roomId: string, body: string): Promise<string>;
  /** Sends m.room.message with any content (replies, edits, thread messages); returns the event id. */
  sendContent(roomId: string, content: Record<string, unknown>): Promise<string>;
  /** First timeline event in `roomId` (already seen or future) matching `predicate`. */
  waitForEvent(
    roomId: string,
    predicate: (ev: PlainEvent) => boolean,
    timeoutMs?: number,
  ): Promise<PlainEvent>;
  /** Waits until our synced state shows `userId` with `membership` in `roomId`. */
  waitForMembership(roomId: string, userId: string, membership: string, timeoutMs?: number): Promise<void>;
  /** Joins; resolves once our sync shows us joined. Returns the room id. */
  joinRoom(roomIdOrAlias: string): Promise<string>;
  /** Rooms we are currently invited to. */
  invites(): InviteInfo[];
  /** First pending or future invite matching `predicate`; returns its room id. */
  waitForInvite(predicate?: (invite: InviteInfo) => boolean, timeoutMs?: number): Promise<string>;
  /** Joins every pending invite (matching `predicate`); returns the room ids joined. */
  acceptInvites(predicate?: (invite: InviteInfo) => boolean): Promise<string[]>;
  /** Joins every invite matching `predicate` from now on (and pending ones); call the result to stop. */
  autoAcceptInvites(predicate?: (invite: InviteInfo) => boolean): () => void;
  /** All timeline events seen in `roomId`, in arrival order. */
  timeline(roomId: string): PlainEvent[];
  /** GET /_matrix/client/v1/rooms/{spaceId}/hierarchy, all pages. */
  hierarchy(spaceId: string, opts?: { maxDepth?: number; suggestedOnly?: boolean }): Promise<HierarchyResult>;
  /** matrix-js-sdk warnings and errors for this client (echoed to stderr with MAB_SDK_LOG=1). */
  sdkLogs(): string[];
  stop(): Promise<void>;
}

export interface HierarchyResult {
  rooms: Array<{
    room_id: string;
    room_type?: string;
    name?: string;
    num_joined_members: number;
    children_state: Array<{
      type: string;
      state_key: string;
      content: Record<string, unknown>;
      sender: string;
    }>;
    [key: string]: unknown;
  }>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const RECHECK_MS = 250;

let sdkPromise: Promise<typeof Sdk> | undefined;

/**
 * What matrix-js-sdk may print: nothing by default (warnings and errors are kept, see `sdkLogs()`),
 * `MAB_SDK_LOG=1` echoes warnings and errors to stderr, `MAB_SDK_LOG=debug` echoes everything.
 */
function sdkEcho(): "off" | "warn" | "debug" {
  const v = process.env.MAB_SDK_LOG;
  if (!v || v === "0") return "off";
  return v === "debug" ? "debug" : "warn";
}

/** Warnings and errors from the SDK's module-level loggers (not tied to one client). */
const globalSdkLog: string[] = [];

/** Warnings and errors logged by matrix-js-sdk outside any one client (last 1000). */
export function sdkGlobalLogs(): string[] {
  return [...globalSdkLog];
}

function pushBounded(sink: string[], line: string): void {
  sink.push(line);
  if (sink.length > 1000) sink.splice(0, sink.length - 1000);
}

function formatArgs(args: unknown[]): string {
  return args.map((m) => (typeof m === "string" ? m : safeJson(m))).join(" ");
}

/**
 * matrix-js-sdk creates a fresh, never-cleared 110 s timer for every /sync request (its
 * `timeoutSignal` helper), so a stopped client would keep Jest from exiting for up to two minutes.
 * Under Jest only, long timers created in this test file's sandbox are unref'd: they still fire
 * while the process lives, but no longer hold it open.
 */
function unrefLongTimersUnderJest(): void {
  if (process.env.JEST_WORKER_ID === undefined) return;
  const g = globalThis as unknown as Record<string | symbol, unknown>;
  const flag = Symbol.for("mab.unrefLongTimers");
  if (g[flag]) return;
  g[flag] = true;
  const real = globalThis.setTimeout;
  const wrapped = function (this: unknown, handler: unknown, ms?: number, ...args: unknown[]) {
    const t = (real as unknown as (...a: unknown[]) => NodeJS.Timeout).call(this, handler, ms, ...args);
    if (typeof ms === "number" && ms >= 10_000 && typeof t?.unref === "function") t.unref();
    return t;
  };
  for (const key of Reflect.ownKeys(real)) {
    if (typeof key === "symbol")
      Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(real, key)!);
  }
  globalThis.setTimeout = wrapped as unknown as typeof globalThis.setTimeout;
}

/** Routes the SDK's loglevel loggers (module-level ones included) through `sdkEcho()`. */
async function quietGlobalSdkLogging(): Promise<void> {
  const mod = (await import("loglevel")) as unknown as { default?: LogLevelRoot } & LogLevelRoot;
  const loglevel = mod.default ?? mod;
  const echo = sdkEcho();
  const factory = (methodName: string, _level: unknown, loggerName: string | symbol | undefined) => {
    const important = methodName === "warn" || methodName === "error";
    const shown = echo === "debug" || (echo === "warn" && important);
    if (!important && !shown) return () => undefined;
    return (...args: unknown[]): void => {
      const line = `${methodName.toUpperCase()} ${String(loggerName ?? "")} ${formatArgs(args)}`;
      if (important) pushBounded(globalSdkLog, line);
      if (shown) process.stderr.write(`[matrix-js-sdk] ${line}\n`);
    };
  };
  loglevel.methodFactory = factory;
  for (const child of Object.values(loglevel.getLoggers())) {
    child.methodFactory = factory;
    child.rebuild();
  }
  loglevel.rebuild();
}

interface LogLevelLogger {
  methodFactory: (methodName: string, level: unknown, loggerName: string | symbol | undefined) => unknown;
  rebuild(): void;
}
interface LogLevelRoot extends LogLevelLogger {
  getLoggers(): Record<string, LogLevelLogger>;
}

/** Loads matrix-js-sdk once (real dynamic import of an ESM package) and quiets its logging. */
export function loadSdk(): Promise<typeof Sdk> {
  if (!sdkPromise) {
    sdkPromise = (async () => {
      unrefLongTimersUnderJest();
      let sdk: typeof Sdk;
      try {
        sdk = await import("matrix-js-sdk");
      } catch (err) {
        sdkPromise = undefined;
        const hint =
          process.env.JEST_WORKER_ID !== undefined
            ? " (under Jest, ESM packages load only when Node runs with --experimental-vm-modules)"
            : "";
        throw new Error(`could not load matrix-js-sdk${hint}: ${safeJson(err)}`);
      }
      try {
        await quietGlobalSdkLogging();
      } catch (err) {
        process.stderr.write(`[matrix-js-sdk] could not quiet its logging: ${safeJson(err)}\n`);
      }
      return sdk;
    })();
  }
  return sdkPromise;
}

function quietLogger(prefix: string, sink: string[]): SdkLogger {
  const echo = sdkEcho();
  const write =
    (level: string, important: boolean) =>
    (...msg: unknown[]): void => {
      const shown = echo === "debug" || (echo === "warn" && important);
      if (!important && !shown) return;
      const line = `${level} ${formatArgs(msg)}`;
      if (important) pushBounded(sink, line);
      if (shown) process.stderr.write(`[matrix-js-sdk ${prefix}] ${line}\n`);
    };
  const logger: SdkLogger = {
    trace: write("TRACE", false),
    debug: write("DEBUG", false),
    info: write("INFO", false),
    warn: write("WARN", true),
    error: write("ERROR", true),
    getChild: () => logger,
  };
  return logger;
}

function safeJson(v: unknown): string {
  // Errors may come from another realm (Jest's sandbox), so no instanceof.
  if (v && typeof v === "object" && "message" in v) {
    const e = v as { message: unknown; stack?: unknown; code?: unknown };
    return typeof e.stack === "string" ? e.stack : `${String(e.code ?? "Error")}: ${String(e.message)}`;
  }
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function toPlain(ev: Sdk.MatrixEvent): PlainEvent {
  const plain = JSON.parse(JSON.stringify(ev.getEffectiveEvent())) as PlainEvent;
  if (ev.isEncrypted()) {
    const failed = ev.isDecryptionFailure();
    plain.encrypted = { decrypted: !failed && ev.getClearContent() !== null, ...(failed ? { failed } : {}) };
  }
  return plain;
}

export interface HumanOptions {
  /** Element-grade encryption: matrix-js-sdk's Rust crypto (the WASM build Element uses). */
  encrypted?: boolean;
}

/** Registers a fresh user on `synapse` and starts a matrix-js-sdk client for it. */
export async function createHuman(
  synapse: SynapseHandle,
  username?: string,
  opts: HumanOptions = {},
): Promise<Human> {
  const sdk = await loadSdk();
  const localpart = username ?? `human-${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const creds = await synapse.registerUser(localpart, password);
  const logLines: string[] = [];

  const client = sdk.createClient({
    baseUrl: synapse.baseUrl,
    userId: creds.userId,
    accessToken: creds.accessToken,
    deviceId: creds.deviceId,
    logger: quietLogger(creds.userId, logLines),
  });

  // ---- event record: every real (server-confirmed) timeline event, per room, in arrival order ----
  const seen = new Map<string, { order: PlainEvent[]; ids: Set<string> }>();
  const changed = new EventEmitter();
  changed.setMaxListeners(0);
  const record = (ev: Sdk.MatrixEvent, roomId: string | undefined): void => {
    const id = ev.getId();
    if (!roomId || !id || !id.startsWith("$")) return; // local echo not yet confirmed
    if (ev.status !== null && ev.status !== sdk.EventStatus.SENT) return;
    let entry = seen.get(roomId);
    if (!entry) {
      entry = { order: [], ids: new Set() };
      seen.set(roomId, entry);
    }
    if (entry.ids.has(id)) return;
    entry.ids.add(id);
    entry.order.push(toPlain(ev));
    changed.emit("change");
  };
  client.on(sdk.RoomEvent.Timeline, (ev, room) => record(ev, room?.roomId ?? ev.getRoomId()));
  client.on(sdk.RoomEvent.LocalEchoUpdated, (ev, room) => record(ev, room.roomId));
  if (opts.encrypted) {
    await client.initRustCrypto({ useIndexedDB: false });
    // Events are recorded when they arrive, still encrypted: keep the clear version once decrypted.
    client.on(sdk.MatrixEventEvent.Decrypted, (ev) => {
      const entry = seen.get(ev.getRoomId() ?? "");
      const at = entry?.order.findIndex((e) => e.event_id === ev.getId()) ?? -1;
      if (entry && at >= 0) entry.order[at] = toPlain(ev);
      else record(ev, ev.getRoomId());
      changed.emit("change");
    });
  }
  // Anything that may change membership or invites: wake up waiters to re-check.
  const poke = (): void => void changed.emit("change");
  client.on(sdk.ClientEvent.Room, poke);
  client.on(sdk.RoomEvent.MyMembership, poke);
  client.on(sdk.RoomMemberEvent.Membership, poke);
  client.on(sdk.ClientEvent.Sync, poke);

  /** Resolves with the first non-undefined `check()` result, re-checking on every change. */
  const waitUntil = <T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(interval);
        changed.off("change", onChange);
        fn();
      };
      const onChange = (): void => {
        let result: T | undefined;
        try {
          result = check();
        } catch (err) {
          finish(() => reject(err));
          return;
        }
        if (result !== undefined) finish(() => resolve(result as T));
      };
      const timer = setTimeout(
        () =>
          finish(() => {
            const recent = logLines.slice(-10).join("\n");
            reject(
              new Error(
                `${creds.userId}: timed out after ${timeoutMs} ms waiting for ${what}` +
                  (recent ? `\nrecent matrix-js-sdk warnings/errors:\n${recent}` : ""),
              ),
            );
          }),
        timeoutMs,
      );
      const interval = setInterval(onChange, RECHECK_MS);
      changed.on("change", onChange);
      onChange();
    });

  const membershipOf = (roomId: string, userId: string): string | undefined => {
    const room = client.getRoom(roomId);
    if (!room) return undefined;
    if (userId === creds.userId) return room.getMyMembership();
    return room.getMember(userId)?.membership;
  };

  const invites = (): InviteInfo[] =>
    client
      .getRooms()
      .filter((room) => room.getMyMembership() === sdk.KnownMembership.Invite)
      .map((room) => {
        const me = room.getMember(creds.userId);
        const inviteEvent = me?.events.member;
        return {
          roomId: room.roomId,
          inviter: inviteEvent?.getSender(),
          isDirect: inviteEvent?.getContent().is_direct === true,
        };
      });

  // ---- start and wait for the first PREPARED sync ----
  const prepared = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`${creds.userId}: no PREPARED sync within 30 s (last: ${client.getSyncState()})`)),
      30_000,
    );
    const onSync = (state: Sdk.SyncState): void => {
      if (state === sdk.SyncState.Prepared) {
        clearTimeout(timer);
        client.off(sdk.ClientEvent.Sync, onSync);
        resolve();
      }
    };
    client.on(sdk.ClientEvent.Sync, onSync);
  });
  await client.startClient({ initialSyncLimit: 20 });
  try {
    await prepared;
  } catch (err) {
    client.stopClient();
    throw err;
  }

  const autoAcceptStops = new Set<() => void>();
  let stopped = false;

  const human: Human = {
    userId: creds.userId,
    accessToken: creds.accessToken,
    deviceId: creds.deviceId,
    password,
    client,
    sdk,

    async createRoom(opts = {}) {
      const { room_id: roomId } = await client.createRoom(opts);
      await human.waitForMembership(roomId, creds.userId, "join");
      return roomId;
    },

    async createDm(withUserId) {
      const roomId = await human.createRoom({
        is_direct: true,
        invite: [withUserId],
        preset: sdk.Preset.TrustedPrivateChat,
      });
      // Element records the DM in m.direct for its creator too.
      const current = (client.getAccountData(sdk.EventType.Direct)?.getContent() ?? {}) as Record<
        string,
        string[]
      >;
      await client.setAccountData(sdk.EventType.Direct, {
        ...current,
        [withUserId]: [...(current[withUserId] ?? []), roomId],
      });
      return roomId;
    },

    async sendText(roomId, body) {
      const res = await client.sendTextMessage(roomId, body);
      return res.event_id;
    },

    async sendContent(roomId, content) {
      const res = await client.sendEvent(roomId, "m.room.message" as never, content as never);
      return res.event_id;
    },

    waitForEvent(roomId, predicate, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return waitUntil(
        `an event in ${roomId} matching ${predicate.toString().slice(0, 200)}`,
        () => seen.get(roomId)?.order.find(predicate),
        timeoutMs,
      );
    },

    async waitForMembership(roomId, userId, membership, timeoutMs = DEFAULT_TIMEOUT_MS) {
      await waitUntil(
        `${userId} to be '${membership}' in ${roomId} (is '${membershipOf(roomId, userId)}')`,
        () => (membershipOf(roomId, userId) === membership ? true : undefined),
        timeoutMs,
      );
    },

    async joinRoom(roomIdOrAlias) {
      const room = await client.joinRoom(roomIdOrAlias);
      await human.waitForMembership(room.roomId, creds.userId, "join");
      return room.roomId;
    },

    invites,

    waitForInvite(predicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return waitUntil("an invite", () => invites().find(predicate)?.roomId, timeoutMs);
    },

    async acceptInvites(predicate = () => true) {
      const joined: string[] = [];
      for (const invite of invites().filter(predicate)) {
        joined.push(await human.joinRoom(invite.roomId));
      }
      return joined;
    },

    autoAcceptInvites(predicate = () => true) {
      const joining = new Set<string>();
      const onChange = (): void => {
        for (const invite of invites().filter(predicate)) {
          if (joining.has(invite.roomId)) continue;
          joining.add(invite.roomId);
          client.joinRoom(invite.roomId).catch((err: unknown) => {
            joining.delete(invite.roomId);
            logLines.push(`ERROR auto-accept ${invite.roomId}: ${safeJson(err)}`);
          });
        }
      };
      changed.on("change", onChange);
      onChange();
      const stop = (): void => {
        changed.off("change", onChange);
        autoAcceptStops.delete(stop);
      };
      autoAcceptStops.add(stop);
      return stop;
    },

    timeline(roomId) {
      return [...(seen.get(roomId)?.order ?? [])];
    },

    async hierarchy(spaceId, opts = {}) {
      const rooms: HierarchyResult["rooms"] = [];
      let from: string | undefined;
      do {
        const qs = new URLSearchParams({ limit: "50" });
        if (opts.maxDepth !== undefined) qs.set("max_depth", String(opts.maxDepth));
        if (opts.suggestedOnly) qs.set("suggested_only", "true");
        if (from) qs.set("from", from);
        const res = await fetch(
          `${synapse.baseUrl}/_matrix/client/v1/rooms/${encodeURIComponent(spaceId)}/hierarchy?${qs}`,
          { headers: { authorization: `Bearer ${creds.accessToken}` } },
        );
        const body = (await res.json()) as HierarchyResult & { next_batch?: string };
        if (!res.ok) throw new Error(`hierarchy(${spaceId}) failed: ${res.status} ${JSON.stringify(body)}`);
        rooms.push(...body.rooms);
        from = body.next_batch;
      } while (from);
      return { rooms };
    },

    sdkLogs() {
      return [...logLines];
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      for (const stop of [...autoAcceptStops]) stop();
      client.stopClient();
      client.removeAllListeners();
      changed.removeAllListeners();
    },
  };
  return human;
}
