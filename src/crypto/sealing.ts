import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { BridgeError } from "../errors";

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals the crypto store's rows at rest: AES-256-GCM with a key derived (HKDF-SHA256) from
 * encryption.pickle_key. Each row is bound to its place (user and part) as associated data, so a
 * row copied to another place does not open. The key never leaves this object.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(pickleKey: string) {
    if (pickleKey.length < 16) {
      throw new BridgeError(
        "CONFIG_INVALID",
        "Config key 'encryption.pickle_key': must be at least 16 characters",
        "Run `matrix-agent-bridge generate-registration` to generate one, or set MAB_ENCRYPTION_PICKLE_KEY",
      );
    }
    this.key = Buffer.from(hkdfSync("sha256", pickleKey, "matrix-agent-bridge", "crypto-store v1", 32));
  }

  seal(data: Buffer, place: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(place));
    const body = Buffer.concat([cipher.update(data), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, place: string): Buffer {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
      throw new BridgeError("CRYPTO_STORE_INVALID", `Crypto store row ${place} is not in a known format`);
    }
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
    decipher.setAAD(Buffer.from(place));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new BridgeError(
        "CRYPTO_STORE_KEY",
        `Crypto store row ${place} does not open with this key`,
        "encryption.pickle_key must be the key the store was written with (it cannot be changed afterwards)",
      );
    }
  }
}
