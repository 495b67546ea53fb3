import type { Knex } from "knex";
import type { MatrixEvent } from "../agents/types";
import { moduleLogger } from "../logging/logger";
import { Outbox } from "../store/outbox";
import { RoomStore } from "../store/roomStore";
import { messageContent } from "../queue/renderMessage";
import type { EventEffects } from "../appservice/eventBatch";
import type { AdminService } from "./adminService";
import { ADMIN_HELP } from "./adminCommands";

const log = moduleLogger("admin/bot");

const REFUSAL =
  "Sorry, I only take commands from the bridge's admins. To use the agents, start a DM with one of them (for example the reminders agent) or invite it into a room.";

/** DMs with the bridge bot are kept in bridge_rooms under this key (one row per room). */
const KEY = (roomId: string) => `admin-dm:${roomId}`;

/**
 * The bridge bot's side of the operator commands, the way bridge operators work with mautrix
 * bridges' management rooms: a bridge admin DMs the bot and types `status`, `parked`, ….
 * Everyone else gets a polite refusal. Runs inside the event's transaction; `prepare` does
 * what needs the homeserver beforehand.
 */
export class BotAdmin {
  private readonly rooms = new Set<string>();

  constructor(
    private readonly botUserId: string,
    private readonly admins: readonly string[],
    private readonly service: () => AdminService | undefined,
  ) {}

  isAdmin(userId: string): boolean {
    return this.admins.includes(userId);
  }

  async load(knex: Knex): Promise<void> {
    for (const row of await new RoomStore(knex).byKind("admin_dm")) this.rooms.add(row.roomId);
  }

  private async isAdminRoom(roomId: string, db: Knex): Promise<boolean> {
    if (this.rooms.has(roomId)) return true;
    return (await new RoomStore(db).byRoomId(roomId))?.kind === "admin_dm";
  }

  /** The bot joined a room it was invited to: a DM becomes its command room, with a greeting. */
  async onInvite(event: MatrixEvent, trx: Knex.Transaction, effects: EventEffects): Promise<void> {
    if (event.content.is_direct !== true) return;
    await new RoomStore(trx).put(KEY(event.room_id), event.room_id, "admin_dm", event.sender);
    effects.afterCommit(() => this.rooms.add(event.room_id));
    log.info(
      { roomId: event.room_id, user: event.sender, admin: this.isAdmin(event.sender) },
      "DM with the bridge bot",
    );
    await this.reply(trx, event, this.isAdmin(event.sender) ? `Hello! ${ADMIN_HELP}` : REFUSAL);
  }

  /** Outside the transaction: true when the message is for the bot (then no agent routing runs). */
  async prepare(event: MatrixEvent, knex: Knex): Promise<boolean> {
    if (!(await this.isAdminRoom(event.room_id, knex))) return false;
    const text = bodyOf(event);
    if (this.isAdmin(event.sender) && text) await this.service()?.prepare(text);
    return true;
  }

  /** In the event's transaction: answers a message in a DM with the bot; false when it is not one. */
  async handle(event: MatrixEvent, trx: Knex.Transaction, effects: EventEffects): Promise<boolean> {
    if (!(await this.isAdminRoom(event.room_id, trx as unknown as Knex))) return false;
    const text = bodyOf(event);
    if (!text) return true;
    if (!this.isAdmin(event.sender)) {
      log.info({ roomId: event.room_id, user: event.sender }, "Operator command refused: not a bridge admin");
      await this.reply(trx, event, REFUSAL);
      return true;
    }
    const service = this.service();
    const answer = service
      ? await service.runIn(trx as unknown as Knex, text, event.sender, (fn) => effects.afterCommit(fn))
      : "The bridge is still starting; try again in a moment.";
    await this.reply(trx, event, answer);
    return true;
  }

  private async reply(trx: Knex.Transaction, event: MatrixEvent, markdown: string): Promise<void> {
    await new Outbox(trx as unknown as Knex).enqueue(trx, {
      roomId: event.room_id,
      sender: this.botUserId,
      type: "m.room.message",
      content: messageContent(markdown, { eventId: event.event_id }),
      sourceEventId: event.event_id,
    });
  }
}

function bodyOf(event: MatrixEvent): string {
  if (event.type !== "m.room.message") return "";
  // An edit of a command is not a new command (and would run it twice).
  if ((event.content["m.relates_to"] as { rel_type?: unknown } | undefined)?.rel_type === "m.replace")
    return "";
  const body = event.content.body;
  return typeof body === "string" ? body.trim() : "";
}
