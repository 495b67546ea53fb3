import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { MatrixHttpError, type HomeserverClient } from "./homeserverClient";

const log = moduleLogger("appservice/devices");

/** The device id every user of the bridge sends from. Device ids are per user, so one name does. */
export const DEFAULT_DEVICE_ID = "MATRIX_AGENT_BRIDGE";
const DISPLAY_NAME = "matrix-agent-bridge outbox";

type Method = "devices_api" | "login";

/**
 * One fixed device per sending user (agents and the bridge bot). A send with `device_id` makes
 * the homeserver store its transaction id for 24 hours, across its own restarts, so an outbox row
 * re-sent after a crash returns the first event instead of posting a second one. Without a device
 * Synapse only remembers transaction ids in memory, for 30 to 60 minutes.
 *
 * The device is made once per user and remembered in `agent_devices`: with
 * `PUT /_matrix/client/v3/devices/{deviceId}?user_id=…` (appservice device management, spec
 * v1.17; creates no access token), or, on homeservers without it, by logging the user in once
 * with `m.login.application_service` and the fixed `device_id` (the access token it returns is
 * not needed: we keep sending with the as_token).
 */
export class AgentDevices {
  private readonly known = new Map<string, string>();
  /** Users the homeserver will not make a device for (a permanent 4xx): they send without one. */
  private readonly refused = new Set<string>();
  private readonly inProgress = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly knex: Knex,
    private readonly client: HomeserverClient,
    private readonly deviceId: string = DEFAULT_DEVICE_ID,
  ) {}

  /** Reads the devices made by earlier runs. */
  async load(): Promise<void> {
    const rows = (await this.knex("agent_devices").select("user_id", "device_id")) as {
      user_id: string;
      device_id: string;
    }[];
    for (const row of rows) this.known.set(row.user_id, row.device_id);
  }

  /** Whether an earlier run made this user's device (so the user is registered on the homeserver). */
  has(userId: string): boolean {
    return this.known.has(userId);
  }

  /** Makes sure each user has its device; failures are logged (sends retry them later). */
  async ensureAll(userIds: readonly string[]): Promise<void> {
    for (const userId of userIds) {
      await this.deviceFor(userId).catch((err) =>
        log.warn({ userId, err: errorMessage(err) }, "Could not set up the sending device yet; will retry"),
      );
    }
  }

  /**
   * The user's device, made on first use. Rejects when the homeserver cannot make it now (it is
   * down: the send is retried later). Resolves undefined when the homeserver refuses for good:
   * then the user sends without a device, deduplicated by the homeserver's in-memory cache only.
   */
  deviceFor(userId: string): Promise<string | undefined> {
    const known = this.known.get(userId);
    if (known) return Promise.resolve(known);
    if (this.refused.has(userId)) return Promise.resolve(undefined);
    let pending = this.inProgress.get(userId);
    if (!pending) {
      pending = this.create(userId)
        .catch((err: unknown) => {
          if (!(err instanceof MatrixHttpError) || err.status >= 500 || err.status === 429) throw err;
          this.refused.add(userId);
          log.warn(
            { userId, err: err.message },
            "The homeserver refused a sending device; this user sends without one (resends after a crash may be duplicated)",
          );
          return undefined;
        })
        .finally(() => this.inProgress.delete(userId));
      this.inProgress.set(userId, pending);
    }
    return pending;
  }

  /** The homeserver lost the device (M_UNKNOWN_DEVICE): the next send makes it again. */
  async forget(userId: string): Promise<void> {
    this.known.delete(userId);
    this.refused.delete(userId);
    await this.knex("agent_devices").where({ user_id: userId }).del();
  }

  private async create(userId: string): Promise<string> {
    const method = await this.createOnHomeserver(userId);
    await this.knex("agent_devices")
      .insert({ user_id: userId, device_id: this.deviceId, method })
      .onConflict("user_id")
      .merge(["device_id", "method"]);
    this.known.set(userId, this.deviceId);
    log.info({ userId, deviceId: this.deviceId, method }, "Sending device ready");
    return this.deviceId;
  }

  private async createOnHomeserver(userId: string): Promise<Method> {
    try {
      await this.client.request("PUT", `/_matrix/client/v3/devices/${encodeURIComponent(this.deviceId)}`, {
        userId,
        body: { display_name: DISPLAY_NAME },
      });
      return "devices_api";
    } catch (err) {
      // Older homeservers: no appservice device management (404/405 M_UNRECOGNIZED, or 400/403).
      if (!(err instanceof MatrixHttpError) || err.status >= 500 || err.status === 429) throw err;
      log.debug({ userId, err: err.message }, "No appservice device management; logging in instead");
    }
    const localpart = userId.slice(1).split(":")[0];
    await this.client.request("POST", "/_matrix/client/v3/login", {
      body: {
        type: "m.login.application_service",
        identifier: { type: "m.id.user", user: localpart },
        device_id: this.deviceId,
        initial_device_display_name: DISPLAY_NAME,
      },
    });
    return "login";
  }
}
