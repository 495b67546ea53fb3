import { MatrixHttpError, type HomeserverClient } from "../appservice/homeserverClient";

/**
 * Which rooms are encrypted. A DM created with encryption in its initial state was encrypted
 * before any agent was in it (the appservice never saw that event), so the first send into a room
 * asks the homeserver for its m.room.encryption state; an m.room.encryption event pushed later
 * (encryption turned on in a room we are in) is noted directly. Encryption is never turned off.
 */
export class RoomEncryption {
  private readonly known = new Map<string, boolean>();

  constructor(private readonly client: HomeserverClient) {}

  note(roomId: string): void {
    this.known.set(roomId, true);
  }

  async isEncrypted(roomId: string, asUser: string): Promise<boolean> {
    const known = this.known.get(roomId);
    if (known !== undefined) return known;
    let encrypted: boolean;
    try {
      const state = await this.client.request(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.encryption/`,
        { userId: asUser },
      );
      encrypted = typeof state.algorithm === "string";
    } catch (err) {
      if (!(err instanceof MatrixHttpError) || err.status !== 404) throw err;
      encrypted = false;
    }
    // A concurrent note() (encryption just turned on) wins over an older answer.
    if (!this.known.get(roomId)) this.known.set(roomId, encrypted);
    return this.known.get(roomId)!;
  }
}
