import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { RoomStore } from "../store/roomStore";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { IntentProvider } from "./matrixIntents";

const log = moduleLogger("appservice/spaces");

export const ROOM_KEYS = {
  bridgeSpace: "space:bridge",
  home: (agentId: string) => `home:${agentId}`,
  personalSpace: (userId: string) => `space:user:${userId}`,
  dm: (agentId: string, userId: string) => `dm:${agentId}:${userId}`,
};

export interface SpaceOptions {
  domain: string;
  spaceName: string;
  aliasPrefix: string;
}

/**
 * The bridge's rooms: one Agents space, a home room per agent inside it, and a personal
 * space per human holding their DMs with agents. Every id is stored under a stable key
 * before anything else uses it, so a restart reuses rooms instead of creating duplicates.
 */
export class SpaceManager {
  /** Serializes creation per key, so two events cannot create the same room twice. */
  private readonly creating = new Map<string, Promise<string>>();

  constructor(
    private readonly intents: IntentProvider,
    private readonly knex: Knex,
    private readonly opts: SpaceOptions,
  ) {}

  /** Creates (once) the bridge space and every agent's home room, linked both ways. */
  async ensureBridgeSpace(agents: readonly ResolvedAgent[]): Promise<string> {
    const spaceId = await this.once(this.knex, ROOM_KEYS.bridgeSpace, "space", undefined, () =>
      this.createSpace(this.opts.spaceName, "Rooms of the bridge's agents", [], "public"),
    );
    for (const agent of agents) {
      try {
        const roomId = await this.ensureHomeRoom(agent);
        await this.link(spaceId, roomId, agent.userId);
      } catch (err) {
        // One agent's room failing must not stop the others (or the bridge) from starting.
        log.error({ agent: agent.id, err: errorMessage(err) }, "Could not set up the agent's home room");
      }
    }
    return spaceId;
  }

  async ensureHomeRoom(agent: ResolvedAgent): Promise<string> {
    const aliasLocalpart = `${this.opts.aliasPrefix}${agent.id}`;
    const alias = `#${aliasLocalpart}:${this.opts.domain}`;
    return this.once(this.knex, ROOM_KEYS.home(agent.id), "home", agent.id, async () => {
      const bot = this.intents.intent(this.intents.botUserId);
      // A crash between creating the room and storing its id leaves the alias behind:
      // reuse that room rather than making a second one.
      const existing = await bot.resolveRoom(alias).catch(() => undefined);
      if (existing) return existing;
      const { room_id: roomId } = await bot.createRoom({
        createAsClient: true,
        options: {
          name: agent.displayName,
          topic: agent.definition.manifest.summary,
          room_alias_name: aliasLocalpart,
          preset: "public_chat",
          visibility: "private",
          invite: [agent.userId],
          // The bot is the creator (room version 12 gives creators unlimited power and
          // forbids listing them in users); the agent may moderate its own room.
          power_level_content_override: { users: { [agent.userId]: 50 } },
        },
      });
      await this.intents.intent(agent.userId).join(roomId);
      return roomId;
    });
  }

  /** The human's own "Agents" space (invited once), holding their DMs with agents. Outside transactions. */
  async ensurePersonalSpace(userId: string): Promise<string> {
    return this.once(this.knex, ROOM_KEYS.personalSpace(userId), "personal-space", userId, () =>
      this.createSpace(this.opts.spaceName, "Your conversations with agents", [userId], "invite"),
    );
  }

  /** m.space.child in the space (by the bot) and m.space.parent in the room (by a member of it). */
  async link(spaceId: string, roomId: string, roomMemberUserId: string): Promise<void> {
    const via = [this.opts.domain];
    const bot = this.intents.intent(this.intents.botUserId);
    await bot.sendStateEvent(spaceId, "m.space.child", roomId, { via, suggested: true });
    try {
      await this.intents.intent(roomMemberUserId).sendStateEvent(roomId, "m.space.parent", spaceId, {
        via,
        canonical: true,
      });
    } catch (err) {
      // Without power to set state in the room the child link alone still groups it.
      log.debug({ roomId, err: errorMessage(err) }, "Could not set m.space.parent");
    }
  }

  private async createSpace(
    name: string,
    topic: string,
    invite: string[],
    joinRule: "public" | "invite",
  ): Promise<string> {
    const bot = this.intents.intent(this.intents.botUserId);
    const { room_id: roomId } = await bot.createRoom({
      createAsClient: true,
      options: {
        name,
        topic,
        invite,
        preset: joinRule === "public" ? "public_chat" : "private_chat",
        visibility: "private",
        creation_content: { type: "m.space" },
        // Only the bot (the creator) edits the space; members see and join its rooms.
        power_level_content_override: { events_default: 100 },
      },
    });
    return roomId;
  }

  private async once(
    db: Knex,
    key: string,
    kind: string,
    owner: string | undefined,
    create: () => Promise<string>,
  ): Promise<string> {
    const rooms = new RoomStore(db);
    const stored = await rooms.get(key);
    if (stored) return stored.roomId;
    let pending = this.creating.get(key);
    if (!pending) {
      pending = (async () => {
        const again = await rooms.get(key);
        if (again) return again.roomId;
        const roomId = await create();
        await rooms.put(key, roomId, kind, owner);
        log.info({ key, roomId }, "Created room");
        return roomId;
      })().finally(() => this.creating.delete(key));
      this.creating.set(key, pending);
    }
    return pending;
  }
}
