import type { HomeserverClient } from "./homeserverClient";
import { MatrixHttpError } from "./homeserverClient";
import { guardedIntents, type IntentProvider, type MatrixIntent } from "./matrixIntents";

const CS = "/_matrix/client/v3";
const enc = encodeURIComponent;

/**
 * The intents, served by our own homeserver client (as_token + `user_id` masquerading). We used
 * matrix-appservice-bridge's intents before; they were the only part of the library the bridge
 * ran, and loading it (with the bot SDK it is built on) cost about 47 MB of resident memory and
 * part of the start-up — see docs/adr/0006-own-intents.md. Errors are `MatrixHttpError` /
 * `HomeserverError`, which the retry policy already classifies.
 */
export function homeserverIntents(client: HomeserverClient, botUserId: string): IntentProvider {
  // Users known to exist on the homeserver, in this process (registration is idempotent).
  // The sender (the bridge bot) exists from the moment the homeserver loads the registration, and
  // is outside the user namespace: registering it would be refused.
  const registered = new Set<string>([botUserId]);
  const intents = new Map<string, MatrixIntent>();
  const make = (userId: string): MatrixIntent => {
    const ensureRegistered = async () => {
      if (registered.has(userId)) return;
      const localpart = userId.slice(1, userId.indexOf(":"));
      try {
        await client.request("POST", `${CS}/register`, {
          body: { type: "m.login.application_service", username: localpart, inhibit_login: true },
        });
      } catch (err) {
        if (!(err instanceof MatrixHttpError && err.errcode === "M_USER_IN_USE")) throw err;
      }
      registered.add(userId);
    };
    // Every call makes sure the user exists first, as the homeserver refuses unknown users.
    const as = async <T>(
      method: string,
      path: string,
      opts: { body?: unknown; query?: Record<string, string | undefined> } = {},
    ) => {
      await ensureRegistered();
      return client.request<T>(method, path, { ...opts, userId });
    };
    return {
      ensureRegistered,
      async join(roomIdOrAlias, via) {
        const path = `${CS}/join/${enc(roomIdOrAlias)}${via?.length ? `?${via.map((s) => `server_name=${enc(s)}`).join("&")}` : ""}`;
        return (await as<{ room_id: string }>("POST", path, { body: {} })).room_id;
      },
      async leave(roomId, reason) {
        await as("POST", `${CS}/rooms/${enc(roomId)}/leave`, { body: reason ? { reason } : {} });
      },
      async createRoom({ options }) {
        return as<{ room_id: string }>("POST", `${CS}/createRoom`, { body: options });
      },
      async sendStateEvent(roomId, type, stateKey, content) {
        const path = `${CS}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`;
        return (await as<{ event_id: string }>("PUT", path, { body: content })).event_id;
      },
      async resolveRoom(roomIdOrAlias) {
        if (roomIdOrAlias.startsWith("!")) return roomIdOrAlias;
        return (await as<{ room_id: string }>("GET", `${CS}/directory/room/${enc(roomIdOrAlias)}`)).room_id;
      },
      async uploadContent(data, { name, type }) {
        await ensureRegistered();
        return client.upload(data, type, name, userId);
      },
      async getProfileInfo(profileUserId, info) {
        const path = `${CS}/profile/${enc(profileUserId)}${info ? `/${enc(info)}` : ""}`;
        return as<{ displayname?: string; avatar_url?: string }>("GET", path);
      },
      async setDisplayName(name) {
        await as("PUT", `${CS}/profile/${enc(userId)}/displayname`, { body: { displayname: name } });
      },
      async setAvatarUrl(url) {
        await as("PUT", `${CS}/profile/${enc(userId)}/avatar_url`, { body: { avatar_url: url } });
      },
    };
  };
  return guardedIntents({
    botUserId,
    intent(userId) {
      let intent = intents.get(userId);
      if (!intent) intents.set(userId, (intent = make(userId)));
      return intent;
    },
  });
}
