import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { MatrixEvent } from "../agents/types";
import { isTransientError } from "../queue/retryPolicy";
import type { BotAdmin } from "../admin/botAdmin";
import type { AgentHost } from "./agentHost";
import type { DirectMessages } from "./directMessages";
import type { EventEffects } from "./eventBatch";
import type { InviteAllowList } from "./inviteAllowList";
import type { IntentProvider } from "./matrixIntents";
import type { MembershipCache } from "./membershipCache";

const log = moduleLogger("appservice/invites");

/** What invites need (the dispatcher's dependencies extend it). */
export interface InviteDeps {
  host: AgentHost;
  intents: IntentProvider;
  membership: MembershipCache;
  dms: DirectMessages;
  allowList: InviteAllowList;
  /** Operator commands in DMs with the bridge bot (src/admin). */
  admin?: { bot: BotAdmin; knex: Knex };
}

/**
 * Invites of our users: answered (joined, or refused by `bridge.invite_allow`) in the dispatcher's
 * prepare step, before the event's transaction; once joined, the agent greets (a DM gets its help,
 * a group room an introduction) inside it.
 */
export class Invites {
  constructor(private readonly deps: InviteDeps & { isOurs(userId: string): boolean }) {}

  /** An invite of one of our users, by someone else. */
  isForUs(event: MatrixEvent): boolean {
    return (
      event.type === "m.room.member" &&
      event.content.membership === "invite" &&
      !!event.state_key &&
      this.deps.isOurs(event.state_key) &&
      !this.deps.isOurs(event.sender)
    );
  }

  /** Before the invite's transaction: join (or refuse). Idempotent: joining twice is harmless. */
  async answer(event: MatrixEvent): Promise<"joined" | "refused" | "failed"> {
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
      return "refused";
    }
    try {
      await intent.join(event.room_id);
    } catch (err) {
      if (isTransientError(err)) throw err;
      log.warn(
        { roomId: event.room_id, invitee, err: errorMessage(err) },
        "Could not join the room invited to",
      );
      return "failed";
    }
    // The homeserver says we are in: true whether or not the transaction commits.
    this.deps.membership.update(event.room_id, invitee, "join");
    return "joined";
  }

  async onJoined(
    event: MatrixEvent,
    trx: Knex.Transaction,
    effects: EventEffects,
    upgradedFrom: string | undefined,
  ): Promise<void> {
    const agent = this.deps.host.byUserId(event.state_key!);
    if (!agent) return this.deps.admin?.bot.onInvite(event, trx, effects); // the bridge bot
    if (upgradedFrom) {
      log.info(
        { oldRoomId: upgradedFrom, newRoomId: event.room_id, agent: agent.id },
        "Invited into an upgraded room",
      );
      await this.deps.host.runHook(trx, agent, event, "onRoomUpgrade", {
        oldRoomId: upgradedFrom,
        newRoomId: event.room_id,
      });
    }
    if (event.content.is_direct === true) {
      await this.deps.dms.record(agent, event.sender, event.room_id, trx, effects);
      await this.deps.host.reply(trx, agent, event, agent.definition.manifest.help);
    } else {
      const intro = `Hello! I am ${agent.displayName}: ${agent.definition.manifest.summary} Type \`!${agent.definition.manifest.command} help\` to see what I can do.`;
      await this.deps.host.reply(trx, agent, event, intro);
    }
  }
}
