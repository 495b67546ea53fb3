/**
 * The crypto feeds of an appservice transaction (MSC2409 to-device, MSC3202 key counts, fallback
 * key types and device lists), read under the unstable names Synapse sends today and the stable
 * names they will become. A reader looking for the wrong name would parse every transaction
 * "cleanly" into nothing, so `fieldsSeen` reports which names a transaction used (logged).
 */
export const FEED_FIELDS = {
  toDevice: ["de.sorunome.msc2409.to_device", "org.matrix.msc2409.to_device", "to_device"],
  otkCounts: [
    "org.matrix.msc3202.device_one_time_keys_count",
    "org.matrix.msc3202.device_one_time_key_counts",
    "device_one_time_keys_count",
  ],
  fallbackTypes: ["org.matrix.msc3202.device_unused_fallback_key_types", "device_unused_fallback_key_types"],
  deviceLists: ["org.matrix.msc3202.device_lists", "device_lists"],
} as const;

/** Caps against a hostile or broken sender; far above what one transaction carries. */
const MAX_TO_DEVICE = 1000;
const MAX_USERS = 10_000;

/** What one of our devices got in a transaction. */
export interface DeviceFeed {
  toDevice: Record<string, unknown>[];
  otkCounts?: Record<string, number>;
  fallbackTypes?: string[];
}

export interface ParsedFeeds {
  /** Keyed by `userId|deviceId`. */
  devices: Map<string, { userId: string; deviceId: string; feed: DeviceFeed }>;
  changed: string[];
  left: string[];
  fieldsSeen: string[];
  /** Entries left out (malformed, not ours, over a cap). */
  dropped: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function pick(body: Record<string, unknown>, names: readonly string[], seen: string[]): unknown {
  for (const name of names) {
    if (body[name] !== undefined) {
      seen.push(name);
      return body[name];
    }
  }
  return undefined;
}

export function parseFeeds(
  body: Record<string, unknown>,
  isOurDevice: (userId: string) => boolean,
): ParsedFeeds {
  const out: ParsedFeeds = { devices: new Map(), changed: [], left: [], fieldsSeen: [], dropped: 0 };
  const entry = (userId: string, deviceId: string) => {
    const key = `${userId}|${deviceId}`;
    let e = out.devices.get(key);
    if (!e) {
      e = { userId, deviceId, feed: { toDevice: [] } };
      out.devices.set(key, e);
    }
    return e.feed;
  };

  const toDevice = pick(body, FEED_FIELDS.toDevice, out.fieldsSeen);
  if (Array.isArray(toDevice)) {
    for (const [i, ev] of toDevice.entries()) {
      const ok =
        i < MAX_TO_DEVICE &&
        isObject(ev) &&
        typeof ev.to_user_id === "string" &&
        typeof ev.to_device_id === "string" &&
        typeof ev.type === "string" &&
        typeof ev.sender === "string" &&
        isObject(ev.content) &&
        isOurDevice(ev.to_user_id);
      if (!ok) {
        out.dropped++;
        continue;
      }
      const { to_user_id: userId, to_device_id: deviceId, ...event } = ev as Record<string, unknown>;
      entry(userId as string, deviceId as string).toDevice.push(event);
    }
  }

  const counts = pick(body, FEED_FIELDS.otkCounts, out.fieldsSeen);
  forEachDevice(counts, isOurDevice, out, (userId, deviceId, value) => {
    if (!isObject(value)) return false;
    const clean: Record<string, number> = {};
    for (const [alg, n] of Object.entries(value))
      if (typeof n === "number" && Number.isFinite(n)) clean[alg] = n;
    entry(userId, deviceId).otkCounts = clean;
    return true;
  });

  const fallback = pick(body, FEED_FIELDS.fallbackTypes, out.fieldsSeen);
  forEachDevice(fallback, isOurDevice, out, (userId, deviceId, value) => {
    if (!Array.isArray(value)) return false;
    entry(userId, deviceId).fallbackTypes = value.filter((t): t is string => typeof t === "string");
    return true;
  });

  const lists = pick(body, FEED_FIELDS.deviceLists, out.fieldsSeen);
  if (isObject(lists)) {
    // Synapse sends `left`; an early reader looked for `removed` and missed every departure.
    out.changed = userIds(lists.changed);
    out.left = userIds(lists.left ?? lists.removed);
  }
  return out;
}

function userIds(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.slice(0, MAX_USERS).filter((u): u is string => typeof u === "string" && u.startsWith("@"));
}

function forEachDevice(
  value: unknown,
  isOurDevice: (userId: string) => boolean,
  out: ParsedFeeds,
  fn: (userId: string, deviceId: string, value: unknown) => boolean,
): void {
  if (!isObject(value)) return;
  for (const [userId, devices] of Object.entries(value)) {
    if (!isOurDevice(userId) || !isObject(devices)) {
      out.dropped++;
      continue;
    }
    for (const [deviceId, v] of Object.entries(devices)) if (!fn(userId, deviceId, v)) out.dropped++;
  }
}

/** Whether a transaction carries anything for the crypto machines. */
export function hasFeeds(feeds: ParsedFeeds): boolean {
  return feeds.devices.size > 0 || feeds.changed.length > 0 || feeds.left.length > 0;
}
