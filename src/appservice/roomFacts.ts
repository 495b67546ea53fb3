import type { RoomFacts } from "../agents/types";
import { MatrixHttpError, type HomeserverClient } from "./homeserverClient";
import { inTransaction, NeedsHomeserver } from "../store/transactionScope";
import { LruMap } from "./lruMap";

interface PowerLevels {
  users?: Record<string, number>;
  users_default?: number;
  events_default?: number;
  state_default?: number;
  events?: Record<string, number>;
  notifications?: { room?: number };
}

interface CreateContent {
  room_version?: string;
  additional_creators?: string[];
}

const CACHE_MS = 30_000;

/**
 * Power levels as the homeserver sees them, read as one of our users that is in the room.
 * Cached briefly (for at most `maxRooms` rooms) and dropped whenever a power-level event for the
 * room passes by.
 */
export class PowerLevelFacts implements RoomFacts {
  private readonly cache: LruMap<string, { at: number; levels: PowerLevels; creators: string[] }>;

  constructor(
    private readonly client: HomeserverClient,
    private readonly asUser: (roomId: string) => Promise<string | undefined>,
    private readonly admins: readonly string[],
    maxRooms = 5000,
  ) {
    this.cache = new LruMap(maxRooms);
  }

  /** Rooms held (a metric). */
  get size(): number {
    return this.cache.size;
  }

  invalidate(roomId: string): void {
    this.cache.delete(roomId);
  }

  isBridgeAdmin(userId: string): boolean {
    return this.admins.includes(userId);
  }

  async powerLevel(roomId: string, userId: string): Promise<number> {
    const { levels, creators } = await this.load(roomId);
    if (creators.includes(userId)) return Infinity;
    return levels.users?.[userId] ?? levels.users_default ?? 0;
  }

  async requiredLevel(
    roomId: string,
    what: "room_mention" | "state_default" | "events_default",
  ): Promise<number> {
    const { levels } = await this.load(roomId);
    if (what === "room_mention") return levels.notifications?.room ?? 50;
    if (what === "state_default") return levels.state_default ?? 50;
    return levels.events_default ?? 0;
  }

  /** The level needed to send a state event of this type (m.room.tombstone, …). */
  async stateLevel(roomId: string, eventType: string): Promise<number> {
    const { levels } = await this.load(roomId);
    return levels.events?.[eventType] ?? levels.state_default ?? 50;
  }

  private async load(roomId: string) {
    const hit = this.cache.get(roomId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    // Inside a transaction: roll it back, read the levels outside, and run the handler again.
    if (inTransaction()) throw new NeedsHomeserver(`power levels of ${roomId}`, () => this.load(roomId));
    const userId = await this.asUser(roomId);
    const state = async <T>(type: string): Promise<T | undefined> => {
      try {
        return await this.client.request<T & Record<string, unknown>>(
          "GET",
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/`,
          { userId },
        );
      } catch (err) {
        if (err instanceof MatrixHttpError && err.status === 404) return undefined;
        throw err;
      }
    };
    const [levels, create] = await Promise.all([
      state<PowerLevels>("m.room.power_levels"),
      this.createEvent(roomId, userId),
    ]);
    const creators = create ? privilegedCreators(create) : [];
    const entry = { at: Date.now(), levels: levels ?? {}, creators };
    this.cache.set(roomId, entry);
    return entry;
  }

  /** The create event with its sender (the state endpoint gives only content). */
  private async createEvent(roomId: string, userId: string | undefined) {
    const res = await this.client.request<{ sender: string; content: CreateContent }>(
      "GET",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.create/`,
      { userId, query: { format: "event" } },
    );
    // Servers that ignore format=event return the content only.
    if (typeof res.sender === "string" && res.content) return res;
    return undefined;
  }
}

/** Room versions whose creators have unlimited power (MSC4289: room version 12 and its test name). */
const CREATOR_POWER_VERSIONS = new Set(["12", "org.matrix.hydra.11"]);

/**
 * The creators that hold unlimited power, which are not listed in `users`. Only in the versions
 * known to work that way: an unknown version (a typo, a future or custom one) grants creators
 * nothing beyond their listed level, so no privileged action is allowed on a guess.
 */
export function privilegedCreators(create: { sender: string; content: CreateContent }): string[] {
  if (!CREATOR_POWER_VERSIONS.has(create.content.room_version ?? "1")) return [];
  const extra = create.content.additional_creators;
  return [create.sender, ...(Array.isArray(extra) ? extra.filter((u) => typeof u === "string") : [])];
}
