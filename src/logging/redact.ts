/**
 * Secret removal for everything we log. pino's own `redact` only knows fixed paths, so a token
 * nested one level deeper than expected, under a capitalised key, inside an Error's properties or
 * echoed in a homeserver's error body got through. Instead every argument of every log call is
 * copied through `redactDeep` before pino sees it:
 * - a key that names a secret (any depth, any case: `Authorization`, `as_token`, `accessToken`,
 *   `pickle_key`, `password`, …) has its value replaced;
 * - every string is scrubbed of `access_token=` query values, `Bearer` credentials, JSON-looking
 *   secret fields, passwords in URLs and the literal values of registered secrets;
 * - Error objects become plain objects (type, message, stack, code, cause, own properties), each
 *   part scrubbed the same way.
 * The walk is bounded (depth, keys, items) and linear in the size of what is logged.
 */

export const REDACTED = "[redacted]";

/** Keys whose values are secrets, compared after lower-casing and dropping `_`, `-` and spaces. */
const SECRET_KEY_ENDINGS = [
  "token",
  "password",
  "passwd",
  "secret",
  "authorization",
  "cookie",
  "picklekey",
  "apikey",
  "privatekey",
  "macaroon",
];

const MAX_DEPTH = 8;
const MAX_KEYS = 200;
const MAX_ITEMS = 200;

let literalSecrets: string[] = [];

/** Registers literal secret values (the tokens) so they are scrubbed from any text we log. */
export function registerSecrets(...secrets: string[]): void {
  const all = new Set([...literalSecrets, ...secrets.filter((s) => typeof s === "string" && s.length >= 8)]);
  // Longest first, so a secret that contains another is removed whole.
  literalSecrets = [...all].sort((a, b) => b.length - a.length);
}

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[_\-\s]/g, "");
  return SECRET_KEY_ENDINGS.some((end) => k.endsWith(end));
}

// Every pattern is linear in the text: each starts at a word boundary or a fixed word and its
// open-ended repetitions are bounded or end at the first delimiter (a log line may carry a
// room member's 64 KB message).
const SECRET_NAMES = "(?:[a-z0-9]{0,24}_)?(?:token|password|passwd|secret|pickle_key)";
const TEXT_PATTERNS: [RegExp, string][] = [
  // ?access_token=… and &access_token=… in URLs (and any other *_token= / password= parameter).
  [new RegExp(`(\\b${SECRET_NAMES}=)[^&\\s"'<>]+`, "gi"), `$1${REDACTED}`],
  // Authorization headers (any scheme) and bearer credentials in prose.
  [
    /(\bAuthorization["']?\s{0,8}[:=]\s{0,8}["']?)(?!Bearer\s)(?:(?:Basic|Token)\s+)?[^\s"',;]+/gi,
    `$1${REDACTED}`,
  ],
  [/(\bBearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  // "as_token": "…" and friends in JSON or YAML echoed back by a server.
  [
    new RegExp(`(["']?\\b(?:${SECRET_NAMES}|authorization)["']?\\s{0,8}[:=]\\s{0,8}["'])[^"']*`, "gi"),
    `$1${REDACTED}`,
  ],
  // Passwords in URLs: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]{0,20}:\/\/[^:/@\s]{1,256}:)[^@/\s]{1,512}@/gi, `$1${REDACTED}@`],
];

export function scrubSecrets(text: string, secrets: readonly string[] = literalSecrets): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  for (const secret of secrets) {
    if (secret.length >= 8 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** A copy of `value` with every secret removed (see the file comment). */
export function redactDeep(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "function" ? undefined : value;
  }
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  seen.add(value);
  try {
    if (value instanceof Error) return errorObject(value, depth, seen);
    if (value instanceof Date) return value;
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (value instanceof URL) return scrubSecrets(value.toString());
    if (value instanceof Map) return walk(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return walk([...value], depth, seen);
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((item) => walk(item, depth + 1, seen));
      if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more]`);
      return items;
    }
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
      try {
        return walk((value as { toJSON(): unknown }).toJSON(), depth + 1, seen);
      } catch {
        return "[unserializable]";
      }
    }
    return plainObject(value as Record<string, unknown>, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function plainObject(obj: Record<string, unknown>, depth: number, seen: WeakSet<object>) {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key of Object.keys(obj)) {
    if (n++ >= MAX_KEYS) {
      out["[more keys]"] = Object.keys(obj).length - MAX_KEYS;
      break;
    }
    let v: unknown;
    try {
      v = obj[key];
    } catch {
      v = "[unreadable]";
    }
    out[key] =
      isSecretKey(key) && v !== undefined && v !== null && v !== "" ? REDACTED : walk(v, depth + 1, seen);
  }
  return out;
}

function errorObject(err: Error, depth: number, seen: WeakSet<object>) {
  const out: Record<string, unknown> = {
    type: err.name || err.constructor?.name || "Error",
    message: scrubSecrets(String(err.message ?? "")),
  };
  if (err.stack) out.stack = scrubSecrets(err.stack);
  const own = plainObject(err as unknown as Record<string, unknown>, depth, seen);
  for (const [k, v] of Object.entries(own)) if (!(k in out)) out[k] = v;
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined) out.cause = walk(cause, depth + 1, seen);
  return out;
}
