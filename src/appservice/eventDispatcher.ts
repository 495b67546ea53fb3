import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import type { MatrixEvent } from "../agents/types";
import { RoomStore } from "../store/roomStore";
import type { PowerLevelFacts } from "./roomFacts";
import type { EventHook } from "./agentHost";
import type { ResolvedAgent } from "../agents/agentConfig";
import { routeMessage } from "./commandRouter";
import { isTransientError } from "../queue/retryPolicy";
import { needsHomeserver } from "../store/transactionScope";
import type { EventEffects, EventHandlers } from "./eventBatch";
import type { RoomUpgrades, UpgradeCheck } from "./roomUpgrade";
import type { CryptoManager } from "../crypto/cryptoManager";
import { EncryptedEvents, type EncryptedPrepared } from "./encryptedEvents";
import { Invites, type InviteDeps } from "./invites";

const log = moduleLogger("appservice/dispatch");

/** What `prepare` found out for `handle` (see EventHandlers). */
type Prepared =
  | { invite: "joined" | "refused" | "failed"; upgradedFrom?: string }
  | { upgrade: UpgradeCheck }
  | EncryptedPrepared
  | undefined;

/**
 * What the bridge does with each incoming event (invites, messages, upgrades, encryption), in the
 * pipeline's two steps: `prepare` (before the event's transaction; the only place that calls the
 * homeserver: joins, upgrade checks, and the caches `handle` reads) and `handle` (inside it).
 */
export class EventDispatcher implements EventHandlers {
  private readonly encrypted: EncryptedEvents;
  private readonly invites: Invites;

  constructor(
    private readonly deps: InviteDeps & {
      facts: PowerLevelFacts;
      upgrades: RoomUpgrades;
      /** Routing learns which rooms are group rooms (see EventTriage). */
      noteRoom?(roomId: string, direct: boolean): void;
      /** Encrypted devices (when encryption is on and the homeserver delivers the feeds). */
      crypto?: () => CryptoManager | undefined;
    },
  ) {
    this.invites = new Invites({ ...deps, isOurs: (userId) => this.isOurs(userId) });
    this.encrypted = new EncryptedEvents({
      crypto: () => deps.crypto?.(),
      host: deps.host,
      dms: deps.dms,
      isJoined: (roomId, userId) => this.warmJoined(roomId, userId),
    });
  }

  private isOurs(userId: string): boolean {
    return userId === this.deps.intents.botUserId || this.deps.host.byUserId(userId) !== undefined;
  }

  /** A plain message in a DM this process knows, from a person: prepared and handled without the homeserver. */
  canHandleInClaim = (event: MatrixEvent): boolean =>
    event.type === "m.room.message" &&
    event.state_key === undefined &&
    !this.isOurs(event.sender) &&
    this.deps.dms.knownAgentFor(event.room_id) !== undefined;

  /** Which rooms of a push's plain messages are DMs this process has not seen yet. */
  learn = async (events: readonly MatrixEvent[]): Promise<void> => {
    const rooms = new Set<string>();
    for (const event of events) {
      if (event.type !== "m.room.message" || event.state_key !== undefined || this.isOurs(event.sender))
        continue;
      if (this.deps.dms.knownAgentFor(event.room_id) === undefined) rooms.add(event.room_id);
    }
    if (rooms.size) await this.deps.dms.learn(rooms);
  };

  prepare = async (event: MatrixEvent): Promise<Prepared> => {
    if (this.invites.isForUs(event)) {
      const invite = await this.invites.answer(event);
      const agent = this.deps.host.byUserId(event.state_key!);
      if (invite !== "joined" || !agent) return { invite };
      return { invite, upgradedFrom: await this.deps.upgrades.upgradedFrom(event.room_id, agent.userId) };
    }
    if (event.type === "m.room.tombstone" && event.state_key === "") {
      const agents = (await this.agentsInRoom(event.room_id)).map((a) => a.userId);
      return { upgrade: await this.deps.upgrades.check(event, agents) };
    }
    if (this.isOurs(event.sender) || event.type === "m.room.member") return undefined;
    if (event.type === "m.room.encryption") this.encrypted.active?.rooms.note(event.room_id);
    if (event.type === "m.room.encrypted" && this.encrypted.active)
      return this.encrypted.prepare(event, this.prepare);
    // Fill what the handler reads, so the transaction is served from the caches: routing asks
    // only about the agents a message could be for (a DM needs no homeserver at all).
    if (event.type === "m.room.message") {
      // A DM with an agent is not the bot's command room (a room has one row in bridge_rooms):
      // known DMs skip that lookup.
      const dmAgentId = await this.deps.dms.agentFor(event.room_id);
      if (dmAgentId === undefined && (await this.deps.admin?.bot.prepare(event, this.deps.admin.knex)))
        return undefined;
      const route = await routeMessage(event, this.deps.host.agents, {
        dmAgentId,
        isJoined: (userId) => this.warmJoined(event.room_id, userId),
      });
      if (route.kind === "help") await this.warmAgentsInRoom(event.room_id);
    } else if (event.type === "m.reaction" || event.type === "m.room.redaction") {
      await this.warmAgentsInRoom(event.room_id);
    }
    return undefined;
  };

  handle = async (
    event: MatrixEvent,
    trx: Knex.Transaction,
    effects: EventEffects,
    prepared: unknown,
  ): Promise<void> => {
    const ready = prepared as Prepared;
    if (ready && "decrypted" in ready) return this.handle(ready.decrypted, trx, effects, ready.inner);
    if (ready && "undecryptable" in ready)
      return this.encrypted.undecryptable(event, trx, ready.undecryptable, ready.agentId);
    if (event.type === "m.room.member" && event.state_key) {
      const { room_id: roomId, state_key: userId } = event;
      const membership = String(event.content.membership);
      if (!(ready && "invite" in ready)) {
        effects.afterCommit(() => this.deps.membership.update(roomId, userId, membership));
        return;
      }
      if (ready.invite === "joined") await this.invites.onJoined(event, trx, effects, ready.upgradedFrom);
      return;
    }
    if (event.type === "m.room.power_levels") {
      effects.afterCommit(() => this.deps.facts.invalidate(event.room_id));
    }
    if (event.type === "m.room.tombstone" && event.state_key === "") {
      if (ready && "upgrade" in ready) await this.onTombstone(event, trx, ready.upgrade);
      return;
    }
    if (this.isOurs(event.sender)) return; // our own echoes
    switch (event.type) {
      case "m.room.encrypted":
      case "m.room.encryption":
        if (this.encrypted.active) return; // read in prepare; nothing to say about encryption itself
        return this.onEncrypted(event, trx);
      case "m.room.message":
        return this.onMessage(event, trx, effects);
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

  /** Outside a transaction: asks the homeserver when the cache does not know. */
  private async warmJoined(roomId: string, userId: string): Promise<boolean> {
    return this.deps.membership.isJoined(roomId, userId).catch((err) => {
      if (isTransientError(err)) throw err;
      return false;
    });
  }

  private async warmAgentsInRoom(roomId: string): Promise<void> {
    for (const agent of this.deps.host.agents) await this.warmJoined(roomId, agent.userId);
  }

  private async agentsInRoom(roomId: string): Promise<ResolvedAgent[]> {
    const present: ResolvedAgent[] = [];
    for (const agent of this.deps.host.agents) {
      if (await this.joined(roomId, agent.userId)) present.push(agent);
    }
    return present;
  }

  /** Membership from the cache (filled in prepare); a permanent lookup failure counts as not joined. */
  private async joined(roomId: string, userId: string): Promise<boolean> {
    try {
      return await this.deps.membership.isJoined(roomId, userId);
    } catch (err) {
      if (needsHomeserver(err) || isTransientError(err)) throw err;
      return false;
    }
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

  /** A room upgrade that `RoomUpgrades` verified: the agents moved already; their data follows. */
  private async onTombstone(event: MatrixEvent, trx: Knex.Transaction, check: UpgradeCheck): Promise<void> {
    if (!check.verified) {
      log.warn(
        {
          roomId: event.room_id,
          sender: event.sender,
          replacement: event.content.replacement_room,
          reason: check.reason,
        },
        "Room upgrade not followed: nothing moves",
      );
      return;
    }
    for (const agent of this.deps.host.agents.filter((a) => check.joined.includes(a.userId))) {
      await this.deps.host.runHook(trx, agent, event, "onRoomUpgrade", {
        oldRoomId: event.room_id,
        newRoomId: check.newRoomId,
      });
    }
  }

  private async onMessage(event: MatrixEvent, trx: Knex.Transaction, effects: EventEffects): Promise<void> {
    const dmAgentId = await this.deps.dms.agentFor(event.room_id, trx);
    if (dmAgentId === undefined && (await this.deps.admin?.bot.handle(event, trx, effects))) return;
    effects.afterCommit(() => this.deps.noteRoom?.(event.room_id, dmAgentId !== undefined));
    const route = await routeMessage(event, this.deps.host.agents, {
      dmAgentId,
      isJoined: (userId) => this.joined(event.room_id, userId),
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
