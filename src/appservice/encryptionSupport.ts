import { moduleLogger } from "../logging/logger";

const log = moduleLogger("appservice/encryption");

/**
 * Says at start-up how the bridge treats encrypted rooms. With encryption on, every agent is an
 * encrypted device driven by the Rust crypto compiled to WebAssembly (src/crypto/); the native
 * binding (@matrix-org/matrix-sdk-crypto-nodejs) stays replaced by a stand-in
 * (packages/crypto-unavailable), because it downloads a binary at install time and nothing uses it.
 */
export function reportEncryptionSupport(enabled: boolean): void {
  if (!enabled) {
    log.info(
      "End-to-end encryption is off (encryption.enabled: false): agents answer encrypted rooms with a notice that they cannot read them",
    );
  }
}
