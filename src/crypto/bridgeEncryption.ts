import type { Knex } from "knex";
import { moduleLogger, registerSecrets } from "../logging/logger";
import { BridgeError, ConfigError, errorMessage } from "../errors";
import type { BridgeConfig } from "../config/bridgeConfig";
import type { Registration } from "../appservice/registration";
import type { HomeserverClient } from "../appservice/homeserverClient";
import { CryptoManager } from "./cryptoManager";

const log = moduleLogger("crypto/bridge");

/** What an operator adds to homeserver.yaml (Synapse) for the feeds encryption needs. */
export const HOMESERVER_LINES = [
  "experimental_features:",
  "  msc2409_to_device_messages_enabled: true",
  "  msc3202_transaction_extensions: true",
];

/** The crypto store's key: encryption.pickle_key, else the one generate-registration wrote. */
export function pickleKey(config: BridgeConfig, registration: Registration): string {
  const key = config.encryption.pickle_key || registration.mab_pickle_key;
  if (!key) {
    throw new ConfigError(
      "encryption.pickle_key",
      "is required when encryption.enabled is true",
      "Set it (MAB_ENCRYPTION_PICKLE_KEY) to a long random string, or regenerate the registration with `matrix-agent-bridge generate-registration`, which writes one",
    );
  }
  registerSecrets(key);
  return key;
}

/** The crypto manager when encryption is on (created before the HTTP server, so no feed is missed). */
export async function createEncryption(
  config: BridgeConfig,
  registration: Registration,
  knex: Knex,
  client: HomeserverClient,
  shared: boolean,
  agentUserIds: string[],
): Promise<CryptoManager | undefined> {
  if (!config.encryption.enabled) return undefined;
  const crypto = await CryptoManager.create(
    knex,
    client,
    {
      pickleKey: pickleKey(config, registration),
      keyWaitMs: config.encryption.key_wait_seconds * 1000,
      shared,
      deviceIdOf: () => config.delivery.device_id,
    },
    agentUserIds,
  );
  return crypto;
}

/**
 * Opens the devices, then checks that the homeserver delivers the feeds (a to-device message from
 * the bot to an agent device must come back in a transaction). When it does not, one warning names
 * the lines to add and the bridge behaves as with encryption off.
 */
export async function startEncryption(
  crypto: CryptoManager,
  config: BridgeConfig,
  registration: Registration,
  deviceFor: (userId: string) => Promise<string | undefined>,
  botUserId: string,
): Promise<void> {
  const problems: string[] = [];
  if (registration.receive_ephemeral !== true) problems.push("receive_ephemeral: true");
  if (registration["org.matrix.msc3202"] !== true) problems.push("org.matrix.msc3202: true");
  try {
    await crypto.start(deviceFor);
    const seconds = config.encryption.self_test_seconds;
    if (problems.length === 0 && seconds > 0) {
      const delivered = await crypto.selfTest(botUserId, await deviceFor(botUserId), seconds * 1000);
      if (!delivered) problems.push(...HOMESERVER_LINES.map((l) => `homeserver.yaml ${l.trim()}`));
    }
  } catch (err) {
    crypto.active = false;
    await crypto.stop();
    log.error(
      {
        err: errorMessage(err),
        ...(err instanceof BridgeError ? { code: err.code, hint: err.hint } : {}),
      },
      "Encryption is OFF for this run: the agents' encrypted devices could not be set up (they are retried at the next start)",
    );
    return;
  }
  if (problems.length) {
    crypto.active = false;
    await crypto.stop();
    log.warn(
      { missing: problems },
      `Encryption is OFF: the homeserver does not deliver to-device messages and key counts to the bridge. Add to the registration file: receive_ephemeral: true and org.matrix.msc3202: true; and to homeserver.yaml: ${HOMESERVER_LINES.join(" ")}; then restart both`,
    );
    return;
  }
  log.info("Encryption is on: every agent has an encrypted, cross-signed device");
}
