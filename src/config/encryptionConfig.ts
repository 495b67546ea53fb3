import type { SectionSpec, SectionValues } from "./fields";

/**
 * The `encryption` config section: every agent an end-to-end encrypted device (src/crypto/).
 * MAB_ENCRYPTION_<KEY> overrides a key.
 */
export const encryptionSpec = {
  enabled: {
    type: "bool",
    default: false,
    doc: "Give every agent an encrypted device so it reads and answers encrypted rooms (needs the homeserver's MSC2409/MSC3202 switches)",
  },
  pickle_key: {
    type: "string",
    doc: "Key the crypto store is sealed with at rest (at least 16 characters; never change it). Default: the one generate-registration wrote into the registration file",
  },
  key_wait_seconds: {
    type: "int",
    default: 60,
    min: 1,
    max: 86_400,
    doc: "How long an encrypted message waits for its room key before the agent tells the sender it could not read it",
  },
  self_test_seconds: {
    type: "int",
    default: 15,
    min: 0,
    max: 600,
    doc: "How long the start-up self-test waits for a to-device message to come back (0 = no self-test)",
  },
} satisfies SectionSpec;

export type EncryptionConfig = SectionValues<typeof encryptionSpec>;
