import { randomInt } from "node:crypto";

/**
 * Reminder ids: 5 characters of Crockford's base32 (no i, l, o, u), e.g. `k3x9p`. Short enough
 * to type, 33 million values, so a random pick rarely collides; the store retries when it does.
 * Input is forgiving: case-insensitive, o → 0, i/l → 1, backticks and a leading # ignored.
 */
export const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
export const ID_LENGTH = 5;

export function newReminderId(random: (max: number) => number = randomInt): string {
  let id = "";
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[random(ID_ALPHABET.length)];
  return id;
}

/** The canonical id for what a user typed, or undefined when it cannot be an id. */
export function normalizeId(text: string): string | undefined {
  if (text.length > 64) return undefined;
  const cleaned = text
    .trim()
    .replace(/^[`#]+|[`.,;:!?]+$/g, "")
    .toLowerCase()
    .replace(/o/g, "0")
    .replace(/[il]/g, "1");
  if (cleaned.length !== ID_LENGTH) return undefined;
  for (const ch of cleaned) if (!ID_ALPHABET.includes(ch)) return undefined;
  return cleaned;
}
