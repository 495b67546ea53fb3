import type { Knex } from "knex";
import { RoomStore } from "../store/roomStore";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { IntentProvider } from "./matrixIntents";
import { ROOM_KEYS, type SpaceManager } from "./spaces";

/**
 * DMs between humans and agents. A DM is known by its room id (to route every message in it
 * to its agent) and by (agent, human) to reuse it when the agent writes first.
 */
export class DirectMessages {
  private readonly agentByRoom = new Map<string, string>();

  constructor(
    private readonly intents: IntentProvider,
    private readonly knex: Knex,
    private readonly spaces: SpaceManager,
  ) {}

  /** The agent id of the DM in this room, if the room is one. */
  async agentFor(roomId: string, db: Knex = this.knex): Promise<string | undefined> {
    const cached = this.agentByRoom.get(roomId);
    if (cached) return cached;
    const row = await new RoomStore(db).byRoomId(roomId);
    if (row?.kind !== "dm") return undefined;
    const agentId = row.key.split(":")[1];
    this.agentByRoom.set(roomId, agentId);
    return agentId;
  }

  /** Called when a human invited an agent with is_direct. */
  async record(agent: ResolvedAgent, userId: string, roomId: string, db: Knex = this.knex): Promise<void> {
    await this.spaces.addDm(agent, userId, roomId, db);
    this.agentByRoom.set(roomId, agent.id);
  }

  /**
   * The DM room between an agent and a human, created by the agent if there is none yet.
   * The agent creates it and sends the is_direct invite itself, so Element files it as a
   * DM with that agent (Element records m.direct with the inviter).
   */
  async open(agent: ResolvedAgent, userId: string, db: Knex = this.knex): Promise<string> {
    const existing = await new RoomStore(db).get(ROOM_KEYS.dm(agent.id, userId));
    if (existing) return existing.roomId;
    const { room_id: roomId } = await this.intents.intent(agent.userId).createRoom({
      createAsClient: true,
      options: {
        is_direct: true,
        invite: [userId],
        preset: "trusted_private_chat",
        visibility: "private",
      },
    });
    await this.record(agent, userId, roomId, db);
    return roomId;
  }
}
