import { randomUUID } from "node:crypto";
import { moduleLogger } from "../logging/logger";
import { HomeserverError, TokenRefusedError } from "../errors";
import type { BridgeConfig } from "../config/bridgeConfig";
import { MatrixHttpError, type HomeserverClient } from "./homeserverClient";

const log = moduleLogger("appservice/ping");

/**
 * Asks the homeserver to call us back (POST /_matrix/client/v1/appservice/{id}/ping). This
 * proves both directions at once (our as_token is accepted; the homeserver reaches our URL
 * with the right hs_token) and makes it retry any backlog right away.
 */
export async function pingHomeserver(
  client: HomeserverClient,
  config: BridgeConfig,
  attempts = 5,
  firstDelayMs = 500,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.ping(config.appservice.id, `mab-ping-${randomUUID()}`);
      log.info({ durationMs: res.duration_ms }, "Homeserver reached us back (appservice ping)");
      return res.duration_ms;
    } catch (err) {
      // A homeserver that is starting, or still busy with a request to our previous process
      // (Synapse answers 502 right after a crash), deserves a few more tries; a refused
      // token or a wrong id does not.
      if (attempt >= attempts || !isTransient(err)) throw explainPingFailure(err, config);
      const delayMs = firstDelayMs * 2 ** (attempt - 1);
      log.warn({ attempt, delayMs, err: (err as Error).message }, "Appservice ping failed; retrying");
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

function isTransient(err: unknown): boolean {
  if (!(err instanceof MatrixHttpError)) return true; // network errors
  if (err.errcode === "M_BAD_STATUS" || err.errcode === "M_URL_NOT_SET") return false;
  return err.status >= 500 || err.errcode === "M_CONNECTION_FAILED" || err.errcode === "M_CONNECTION_TIMEOUT";
}

export function explainPingFailure(err: unknown, config: BridgeConfig): Error {
  const hs = config.homeserver.url;
  const us = config.appservice.url;
  if (!(err instanceof MatrixHttpError)) {
    return new HomeserverError(
      `Cannot reach the homeserver at ${hs}: ${(err as Error).message}`,
      "Check homeserver.url and that the homeserver is running",
      { cause: err },
    );
  }
  switch (err.errcode) {
    case "M_UNKNOWN_TOKEN":
    case "M_MISSING_TOKEN":
      return new TokenRefusedError(
        "The homeserver refused our as_token: it does not have this registration loaded",
        "Add the registration file to app_service_config_files in homeserver.yaml and restart the homeserver",
      );
    case "M_FORBIDDEN":
      return new TokenRefusedError(
        `The homeserver refused the ping for appservice id '${config.appservice.id}'`,
        "appservice.id must equal the 'id' of the registration the homeserver loaded",
      );
    case "M_URL_NOT_SET":
      return new HomeserverError(
        "The homeserver's copy of the registration has no url",
        `Set url: ${us} in the registration file and restart the homeserver`,
      );
    case "M_CONNECTION_FAILED":
    case "M_CONNECTION_TIMEOUT":
      return new HomeserverError(
        `The homeserver cannot reach the bridge at ${us} (${err.errcode})`,
        "Make appservice.url reachable from the homeserver (bind_address/port, firewall) and equal to the registration's url",
      );
    case "M_BAD_STATUS":
      return new TokenRefusedError(
        `The homeserver reached the bridge at ${us} but got an error (${err.message})`,
        "The hs_token in the homeserver's registration probably differs from ours: use the same registration file on both sides",
      );
    default:
      return new HomeserverError(
        `Appservice ping failed: ${err.message}`,
        "Run `matrix-agent-bridge doctor` for details",
      );
  }
}
