import { BridgeError, ConfigError, ConfigErrors, HomeserverError, TokenRefusedError } from "../errors";

/**
 * Exit codes of the CLI, documented in the README ("Exit codes"), so that scripts and
 * service managers can tell "fix the config" from "the homeserver is down" from "the
 * homeserver refuses our registration".
 */
export const EXIT = {
  OK: 0,
  /** Something else failed (doctor found problems, a file could not be written, …). */
  FAILURE: 1,
  /** Wrong command line (unknown option or command). */
  USAGE: 2,
  /** The config file is missing, is not YAML, or has invalid keys; or the registration does not match. */
  CONFIG: 3,
  /** The homeserver could not be reached, or could not reach the bridge. */
  HOMESERVER_UNREACHABLE: 4,
  /** The homeserver answered but refused our as_token, hs_token or appservice id. */
  TOKEN_REFUSED: 5,
  /** The running bridge (operator commands) could not be reached or refused the admin token. */
  BRIDGE_UNREACHABLE: 6,
} as const;

const CONFIG_CODES = new Set([
  "CONFIG_INVALID",
  "CONFIG_MISSING",
  "CONFIG_SYNTAX",
  "REGISTRATION_MISMATCH",
  "REGISTRATION_INVALID",
  "REGISTRATION_MISSING",
]);

export function exitCodeFor(err: unknown): number {
  if (err instanceof TokenRefusedError) return EXIT.TOKEN_REFUSED;
  if (err instanceof HomeserverError) return EXIT.HOMESERVER_UNREACHABLE;
  if (err instanceof ConfigError || err instanceof ConfigErrors) return EXIT.CONFIG;
  if (err instanceof BridgeError && CONFIG_CODES.has(err.code)) return EXIT.CONFIG;
  if (err instanceof BridgeError && err.code === "BRIDGE_UNREACHABLE") return EXIT.BRIDGE_UNREACHABLE;
  return EXIT.FAILURE;
}
