import type { HomeserverClient } from "../appservice/homeserverClient";
import type { CryptoWasm } from "./runtime";

type OutgoingRequest = {
  id?: string;
  type?: number;
  body: string;
  event_type?: string;
  txn_id?: string;
  room_id?: string;
};

/**
 * Sends a crypto machine's requests as the agent's own device: the as_token with `user_id` and
 * `device_id` (MSC4326; the old `org.matrix.msc3202.device_id` name was removed in Synapse 1.161).
 * Returns the response body as JSON text, for markRequestAsSent.
 */
export class RequestSender {
  constructor(
    private readonly wasm: CryptoWasm,
    private readonly client: HomeserverClient,
    readonly userId: string,
    readonly deviceId: string,
  ) {}

  async send(request: OutgoingRequest): Promise<string> {
    const { RequestType } = this.wasm;
    const body = JSON.parse(request.body) as Record<string, unknown>;
    const v3 = "/_matrix/client/v3";
    switch (request.type) {
      case RequestType.KeysUpload:
        return this.call("POST", `${v3}/keys/upload`, body);
      case RequestType.KeysQuery:
        return this.call("POST", `${v3}/keys/query`, body);
      case RequestType.KeysClaim:
        return this.call("POST", `${v3}/keys/claim`, body);
      case RequestType.SignatureUpload:
        return this.call("POST", `${v3}/keys/signatures/upload`, body);
      case RequestType.ToDevice:
        return this.call(
          "PUT",
          `${v3}/sendToDevice/${encodeURIComponent(request.event_type!)}/${encodeURIComponent(request.txn_id!)}`,
          body,
        );
      case RequestType.RoomMessage:
        return this.call(
          "PUT",
          `${v3}/rooms/${encodeURIComponent(request.room_id!)}/send/${encodeURIComponent(request.event_type!)}/${encodeURIComponent(request.txn_id!)}`,
          body,
        );
      case RequestType.KeysBackup:
        // No server-side key backup: our store is the backup. Answer as if stored.
        return "{}";
      default:
        throw new Error(`Unknown crypto request type ${request.type}`);
    }
  }

  /** Cross-signing keys (from bootstrapCrossSigning): no interactive auth for an appservice user. */
  uploadSigningKeys(body: string): Promise<string> {
    return this.call("POST", "/_matrix/client/v3/keys/device_signing/upload", JSON.parse(body));
  }

  private async call(method: string, path: string, body: unknown): Promise<string> {
    const res = await this.client.request(method, path, {
      userId: this.userId,
      query: { device_id: this.deviceId },
      body,
    });
    return JSON.stringify(res);
  }
}
