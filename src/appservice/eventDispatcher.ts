import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import type { MatrixEvent } from "../agents/types";
import { RoomStore } from "../store/roomStore";
import type { AgentHost } from "./agentHost";
import type { MembershipCache } from "./membershipCache";
import type { DirectMessages } from "./directMessages";
import type { InviteAllowList } from "./inviteAllowList";
import type { IntentProvider } from "./matrixIntents";
import type { PowerLevelFacts } from "./roomFacts";
import type { EventHook } from "./agentHost";
import type { ResolvedAgent } from "../agents/agentConfig";
import { routeMessage } from "./commandRouter";

const log = moduleLogger("appservice/dispatch");

/**
 * What the bridge does with each incoming event (invites, messages, encryption), called by
 * the pipeline inside the event's database transaction.
 */
export class EventDispatcher {
  constructor(
    private readonly deps: {
      host: AgentHost;
      intents: IntentProvider;
      membership: MembershipCache;
      dms: DirectMessages;
      allowList: InviteAllowList;
      facts: PowerLevelFacts;
    },
  ) {}

  private isOurs(userId: string): boolean {
    return userId === this.deps.intents.botUserId || this.deps.host.byUserId(userId) !== undefined;
  }

  handle = async (event: MatrixEvent, trx: Knex.Transaction): Promise<void> => {
    if (event.type === "m.room.member" && event.state_key) {
      this.deps.membership.update(event.room_id, event.state_key, String(event.content.membership));
      if (
        event.content.membership === "invite" &&
        this.isOurs(event.state_key) &&
        !this.isOurs(event.sender)
      ) {
        await this.onInvite(event, trx);
      }
      return;
    }
    if (event.type === "m.room.power_levels") this.deps.facts.invalidate(event.room_id);
    if (event.type === "m.room.tombstone" && event.state_key === "") {
      await this.onTombstone(event, trx);
      return;
    }
    if (this.isOurs(event.sender)) return; // our own echoes
    switch (event.type) {
      case "m.room.encrypted":
      case "m.room.encryption":
        return this.onEncrypted(event, trx);
      case "m.room.message":
        return this.onMessage(event, trx);
      case "m.reaction": {
        const rel = event.content["m.relates_to"] as
          { event_id?: string; key?: string; rel_type?: string } | undefined;
        if (rel?.rel_type !== "m.annotation" || !rel.event_id || typeof rel.key !== "string") return;
        return this.toAgentsInRoom(event, trx, "onReaction", { targetEventId: rel.event_id, key: rel.key });
      }
      case "m.room.redaction": {
        const redacts =
          (event as { redacts?: string }).redacts ?? (event.content.redacts as string | undefined);
        if (!redacts) return;
        return this.toAgentsInRoom(event, trx, "onRedaction", { redacts });
      }
    }
  };

  private async agentsInRoom(roomId: string): Promise<ResolvedAgent[]> {
    const present: ResolvedAgent[] = [];
    for (const agent of this.deps.host.agents) {
      if (await this.deps.membership.isJoined(roomId, agent.userId).catch(() => false)) present.push(agent);
    }
    return present;
  }

  private async toAgentsInRoom(
    event: MatrixEvent,
    trx: Knex.Transaction,
    hook: EventHook,
    extra: Record<string, unknown>,
  ) {
    for (const agent of await this.agentsInRoom(event.room_id)) {
      await this.deps.host.runHook(trx, agent, event, hook, extra);
    }
  }

  /** A room upgrade: agents follow to the new room and move their data there. */
  private async onTombstone(event: MatrixEvent, trx: Knex.Transaction): Promise<void> {
    const newRoomId = event.content.replacement_room;
    if (typeof newRoomId !== "string") return;
    const via = event.sender.split(":").slice(1).join(":");
    for (const agent of await this.agentsInRoom(event.room_id)) {
      try {
        await this.deps.intents.intent(agent.userId).join(newRoomId, via ? [via] : undefined);
        this.deps.membership.update(newRoomId, agent.userId, "join");
      } catch (err) {
        log.warn(
          { agent: agent.id, newRoomId, err: (err as Error).message },
          "Could not follow the room upgrade",
        );
      }
      await this.deps.host.runHook(trx, agent, event, "onRoomUpgrade", {
        oldRoomId: event.room_id,
        newRoomId,
      });
    }
  }

  private async onInvite(event: MatrixEvent, trx: Knex.Transaction): Promise<void> {
    const invitee = event.state_key!;
    const inviter = event.sender;
    const intent = this.deps.intents.intent(invitee);
    if (!this.deps.allowList.allows(inviter)) {
      log.info(
        { roomId: event.room_id, inviter, invitee },
        "Invite refused: inviter not allowed by bridge.invite_allow",
      );
      await intent
        .leave(event.room_id, "This bridge does not accept invites from you")
        .catch(() => undefined);
      return;
    }
    await intent.join(event.room_id);
    this.deps.membership.update(event.room_id, invitee, "join");
    const agent = this.deps.host.byUserId(invitee);
    if (!agent) return; // the bridge bot: joins, answers !help
    if (event.content.is_direct === true) {
      await this.deps.dms.record(agent, inviter, event.room_id, trx);
      await this.deps.host.reply(trx, agent, event, agent.definition.manifest.help);
    } else {
      const intro = `Hello! I am ${agent.displayName}: ${agent.definition.manifest.summary} Type \`!${agent.definition.manifest.command} help\` to see what I can do.`;
      await this.deps.host.reply(trx, agent, event, intro);
    }
  }

  private async onMessage(event: MatrixEvent, trx: Knex.Transaction): Promise<void> {
    const dmAgentId = await this.deps.dms.agentFor(event.room_id, trx);
    const route = await routeMessage(event, this.deps.host.agents, {
      dmAgentId,
      isJoined: (userId) => this.deps.membership.isJoined(event.room_id, userId),
    });
    if (route.kind === "agent") {
      await this.deps.host.runCommand(
        trx,
        route.agent,
        event,
        route.args,
        route.isDirect,
        route.shortcut === true,
      );
    } else if (route.kind === "help") {
      await this.onHelp(event, trx);
    }
  }

  /** "!help": the first agent in the room lists every agent present. */
  private async onHelp(event: MatrixEvent, trx: Knex.Transaction): Promise<void> {
    const present = await this.agentsInRoom(event.room_id);
    if (present.length === 0) return;
    const lines = present.map(
      (a) =>
        `- **${a.displayName}** (\`!${a.definition.manifest.command}\`): ${a.definition.manifest.summary}`,
    );
    const text = ["Agents in this room:", ...lines, "", "Add `help` after a command for details."].join("\n");
    await this.deps.host.reply(trx, present[0], event, text);
  }

  /** Agents cannot read encrypted rooms; say so once per room instead of staying silent. */
  private async onEncrypted(event: MatrixEvent, trx: Knex.Transaction): Promise<void> {
    // Remembered as a row of bridge_rooms under its own key (room ids there are unique,
    // hence the suffix), in this event's transaction.
    const rooms = new RoomStore(trx);
    const key = `encryption-notice:${event.room_id}`;
    if (await rooms.get(key)) return;
    for (const agent of await this.agentsInRoom(event.room_id)) {
      await rooms.put(key, `${event.room_id}#encryption-notice`, "notice", agent.id);
      await this.deps.host.reply(
        trx,
        agent,
        event,
        "This room is end-to-end encrypted, and I cannot read encrypted messages yet. Please talk to me in an unencrypted room.",
      );
      log.info({ roomId: event.room_id }, "Told an encrypted room that agents cannot read it");
      return;
    }
  }
}
