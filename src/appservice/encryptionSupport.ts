import { moduleLogger } from "../logging/logger";

const log = moduleLogger("appservice/encryption");

/**
 * Whether the native crypto bindings are real or our stand-in (packages/crypto-unavailable,
 * installed through an npm override because the real package downloads a binary at install
 * time). Logged once at start-up; the bridge never enables encryption either way.
 */
export function reportEncryptionSupport(): boolean {
  let standIn = true;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    standIn = require("@matrix-org/matrix-sdk-crypto-nodejs").isStandIn === true;
  } catch {
    standIn = true;
  }
  if (standIn) {
    log.info(
      "End-to-end encryption is unavailable (native crypto bindings not installed); agents will not join encrypted conversations' content",
    );
  }
  return !standIn;
}
