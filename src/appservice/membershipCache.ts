import type { HomeserverClient } from "./homeserverClient";
import { MatrixHttpError } from "./homeserverClient";
import { inTransaction, NeedsHomeserver } from "../store/transactionScope";
import { LruMap } from "./lruMap";

/**
 * Which of our users are joined to which rooms. Filled lazily from the homeserver and kept
 * current from the member events we receive (every event about our namespace reaches us),
 * so command routing does not ask the homeserver on every message. Bounded by rooms (least
 * recently used beyond `maxRooms` are dropped and re-read when needed), so memory does not grow
 * with every room the bridge was ever in.
 */
export class MembershipCache {
  private readonly joined: LruMap<string, Map<string, boolean>>;

  constructor(
    private readonly client: HomeserverClient,
    maxRooms = 5000,
  ) {
    this.joined = new LruMap(maxRooms);
  }

  /** Rooms held (a metric). */
  get size(): number {
    return this.joined.size;
  }

  /** Records a membership change seen in a transaction. */
  update(roomId: string, userId: string, membership: string): void {
    this.room(roomId).set(userId, membership === "join");
  }

  forget(roomId: string): void {
    this.joined.delete(roomId);
  }

  async isJoined(roomId: string, userId: string): Promise<boolean> {
    const room = this.room(roomId);
    const known = room.get(userId);
    if (known !== undefined) return known;
    // Inside a transaction: roll it back, ask outside, and run the handler again (from the cache).
    if (inTransaction())
      throw new NeedsHomeserver(`membership of ${userId} in ${roomId}`, () => this.isJoined(roomId, userId));
    let members: string[];
    try {
      members = await this.client.joinedMembers(roomId, userId);
    } catch (err) {
      // 403: the user is not in the room, which is exactly the answer we wanted.
      if (err instanceof MatrixHttpError && (err.status === 403 || err.status === 404)) {
        room.set(userId, false);
        return false;
      }
      throw err;
    }
    for (const member of members) room.set(member, true);
    if (!members.includes(userId)) room.set(userId, false);
    return room.get(userId) === true;
  }

  private room(roomId: string): Map<string, boolean> {
    let room = this.joined.get(roomId);
    if (!room) {
      room = new Map();
      this.joined.set(roomId, room);
    }
    return room;
  }
}
