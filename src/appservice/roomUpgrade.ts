import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { isTransientError } from "../queue/retryPolicy";
import type { MatrixEvent } from "../agents/types";
import type { HomeserverClient } from "./homeserverClient";
import type { IntentProvider } from "./matrixIntents";
import type { MembershipCache } from "./membershipCache";
import type { PowerLevelFacts } from "./roomFacts";

const log = moduleLogger("appservice/upgrade");

export type UpgradeCheck =
  { verified: true; newRoomId: string; joined: string[] } | { verified: false; reason: string };

/**
 * Room upgrades are followed only when they are real. Anyone with power in room A can send a
 * tombstone naming any room B; following it blindly moved A's FAQ entries, reminders and timers
 * into B. An upgrade is real when (1) the tombstone's sender may send tombstones in A, and (2) B's
 * m.room.create names A as its predecessor (only the room's creator writes that, when the
 * homeserver makes B as A's upgrade). B's create event can only be read from inside B, so the
 * agents join B first and leave again if it is not A's successor. Runs before the tombstone's
 * transaction (it calls the homeserver) and is idempotent.
 */
export class RoomUpgrades {
  constructor(
    private readonly client: HomeserverClient,
    private readonly intents: IntentProvider,
    private readonly membership: MembershipCache,
    private readonly facts: PowerLevelFacts,
  ) {}

  async check(tombstone: MatrixEvent, agentUserIds: readonly string[]): Promise<UpgradeCheck> {
    const oldRoomId = tombstone.room_id;
    const newRoomId = tombstone.content.replacement_room;
    if (typeof newRoomId !== "string" || !newRoomId.startsWith("!") || newRoomId === oldRoomId)
      return { verified: false, reason: "the tombstone names no other room" };
    if (agentUserIds.length === 0) return { verified: false, reason: "no agent is in the room" };
    const [senderLevel, needed] = await Promise.all([
      this.facts.powerLevel(oldRoomId, tombstone.sender),
      this.facts.stateLevel(oldRoomId, "m.room.tombstone"),
    ]);
    if (senderLevel < needed)
      return { verified: false, reason: `the sender's power level ${senderLevel} is below ${needed}` };
    const via = tombstone.sender.split(":").slice(1).join(":");
    const joined: string[] = [];
    const wasIn = new Map<string, boolean>();
    for (const userId of agentUserIds) {
      wasIn.set(userId, await this.membership.isJoined(newRoomId, userId).catch(() => false));
      try {
        await this.intents.intent(userId).join(newRoomId, via ? [via] : undefined);
        this.membership.update(newRoomId, userId, "join");
        joined.push(userId);
      } catch (err) {
        if (isTransientError(err)) throw err;
        log.warn(
          { userId, newRoomId, err: errorMessage(err) },
          "Could not join the room named by a tombstone",
        );
      }
    }
    if (joined.length === 0) return { verified: false, reason: "no agent could join the new room" };
    const predecessor = await this.predecessorOf(newRoomId, joined[0]);
    if (predecessor === oldRoomId) return { verified: true, newRoomId, joined };
    for (const userId of joined) {
      if (wasIn.get(userId)) continue;
      await this.intents
        .intent(userId)
        .leave(newRoomId, "This room is not the upgrade it was said to be")
        .catch((err) => log.warn({ userId, newRoomId, err: errorMessage(err) }, "Could not leave again"));
      this.membership.update(newRoomId, userId, "leave");
    }
    return {
      verified: false,
      reason: predecessor
        ? `the new room's predecessor is ${predecessor}, not this room`
        : "the new room names no predecessor",
    };
  }

  /**
   * After an agent joined `roomId` on an invite: if the room is the verified upgrade of a room the
   * agent is in (its create event names that room, whose tombstone, sent with power, names this
   * one), the old room's id — the agent could not follow the tombstone itself (an invite-only
   * upgrade invites nobody), so its data follows now.
   */
  async upgradedFrom(roomId: string, agentUserId: string): Promise<string | undefined> {
    const oldRoomId = await this.predecessorOf(roomId, agentUserId).catch((err) => {
      if (isTransientError(err)) throw err;
      return undefined;
    });
    if (!oldRoomId || !(await this.membership.isJoined(oldRoomId, agentUserId).catch(() => false)))
      return undefined;
    let tombstone: { sender?: string; content?: { replacement_room?: unknown } };
    try {
      tombstone = await this.client.request(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(oldRoomId)}/state/m.room.tombstone/`,
        { userId: agentUserId, query: { format: "event" } },
      );
    } catch (err) {
      if (isTransientError(err)) throw err;
      return undefined; // no tombstone: not an upgrade
    }
    if (tombstone.content?.replacement_room !== roomId || typeof tombstone.sender !== "string")
      return undefined;
    const [level, needed] = await Promise.all([
      this.facts.powerLevel(oldRoomId, tombstone.sender),
      this.facts.stateLevel(oldRoomId, "m.room.tombstone"),
    ]);
    return level >= needed ? oldRoomId : undefined;
  }

  private async predecessorOf(roomId: string, asUser: string): Promise<string | undefined> {
    const create = await this.client.request<{ predecessor?: { room_id?: unknown } }>(
      "GET",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.create/`,
      { userId: asUser },
    );
    const id = create.predecessor?.room_id;
    return typeof id === "string" ? id : undefined;
  }
}
