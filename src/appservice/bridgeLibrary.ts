import { Bridge, AppServiceRegistration } from "matrix-appservice-bridge";
import { HomeserverError, errorMessage } from "../errors";
import type { BridgeConfig } from "../config/bridgeConfig";
import type { Registration } from "./registration";

/**
 * The matrix-appservice-bridge instance, used only for its intents (user registration, profile
 * and membership calls). Its stores and event controller are off: events reach us through our
 * own HTTP server (see HttpServer) and everything durable is in our database.
 */
export async function startBridgeLibrary(config: BridgeConfig, registration: Registration): Promise<Bridge> {
  const bridge = new Bridge({
    homeserverUrl: config.homeserver.url,
    domain: config.homeserver.domain,
    registration: AppServiceRegistration.fromObject(registration as never),
    disableStores: true,
    disableContext: true,
    suppressEcho: true,
    controller: { onEvent: () => undefined },
  });
  try {
    await bridge.initialise();
  } catch (err) {
    throw new HomeserverError(
      `Cannot talk to the homeserver at ${config.homeserver.url}: ${errorMessage(err)}`,
      "Check homeserver.url and that the homeserver is running",
      { cause: err },
    );
  }
  return bridge;
}
