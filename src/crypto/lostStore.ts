import { BridgeError } from "../errors";
import type { HomeserverClient } from "../appservice/homeserverClient";

interface KeysQueryAnswer {
  device_keys?: Record<string, Record<string, { keys?: Record<string, string> } | undefined> | undefined>;
}

/**
 * Before a device without a crypto store gets a new identity: refuses when the homeserver already
 * holds identity keys for that device id. Our store saves a new identity before anything is
 * uploaded, so keys on the homeserver with no store here mean the store was lost (a database
 * restored without `crypto_devices`/`crypto_store`, or another database pointed at the same
 * homeserver). A new identity under the old device id would be broken for everyone: its keys
 * upload conflicts with the old one-time keys, and people's clients refuse a known device whose
 * keys changed, so they would never share room keys with it.
 */
export async function refuseLostStore(
  client: HomeserverClient,
  userId: string,
  deviceId: string,
): Promise<void> {
  const answer = await client.request<KeysQueryAnswer>("POST", "/_matrix/client/v3/keys/query", {
    body: { device_keys: { [userId]: [deviceId] } },
  });
  const known = answer.device_keys?.[userId]?.[deviceId];
  if (!known?.keys) return;
  const curve = known.keys[`curve25519:${deviceId}`];
  throw new BridgeError(
    "CRYPTO_STORE_LOST",
    `The encrypted device ${deviceId} of ${userId} exists on the homeserver (identity key ${curve ?? "?"}) but its crypto store is not in the bridge's database`,
    `Restore the tables crypto_devices and crypto_store from a backup made with the same encryption.pickle_key; or give the agents new devices: set delivery.device_id to an id never used before, empty the agent_devices table, restart (see docs/operations.md, "Encrypted devices")`,
  );
}
