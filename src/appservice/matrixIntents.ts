import { assertOutsideTransaction } from "../store/transactionScope";

/**
 * What the bridge does as one of its users besides sending events (which go through the outbox
 * and `HomeserverClient.sendEvent`): the handful of client-server calls of the start sequence,
 * invites, spaces, DMs, room upgrades and profiles. Small on purpose, so the rest of the code
 * and the fault-injection tests depend on this and not on a library's classes.
 */
export interface MatrixIntent {
  /** Registers the user if the homeserver does not know it yet (idempotent). */
  ensureRegistered(): Promise<void>;
  /** Joins a room by id or alias; `via` names servers to join through. Returns the room id. */
  join(roomIdOrAlias: string, via?: string[]): Promise<string>;
  leave(roomId: string, reason?: string): Promise<void>;
  /** `createAsClient` is accepted for the callers' clarity: rooms are always created as this user. */
  createRoom(opts: {
    createAsClient?: boolean;
    options: Record<string, unknown>;
  }): Promise<{ room_id: string }>;
  sendStateEvent(
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string>;
  /** The room id an alias points to (a room id is returned as it is). */
  resolveRoom(roomIdOrAlias: string): Promise<string>;
  /** Uploads media as this user; returns its mxc:// URI. */
  uploadContent(data: Buffer, opts: { name: string; type: string }): Promise<string>;
  getProfileInfo(
    userId: string,
    info?: string,
    useCache?: boolean,
  ): Promise<{ displayname?: string; avatar_url?: string }>;
  setDisplayName(name: string): Promise<void>;
  setAvatarUrl(url: string): Promise<void>;
}

export interface IntentProvider {
  intent(userId: string): MatrixIntent;
  botUserId: string;
}

/**
 * Every intent method talks to the homeserver: calling one inside a database transaction is a
 * bug (see transactionScope.ts), caught here rather than in production.
 */
export function guardedIntents(provider: IntentProvider): IntentProvider {
  return {
    intent(userId) {
      const intent = provider.intent(userId);
      return new Proxy(intent, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== "function" || typeof prop !== "string") return value;
          return (...args: unknown[]) => {
            assertOutsideTransaction(`intent.${prop}`);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
    get botUserId() {
      return provider.botUserId;
    },
  };
}
