import { existsSync } from "node:fs";
import { loadConfigFile } from "../config/bridgeConfig";
import { BridgeError } from "../errors";
import { buildRegistration, writeRegistration } from "../appservice/registration";
import { say } from "./output";

export async function runGenerateRegistration(
  configPath: string,
  output: string | undefined,
  force: boolean,
) {
  const config = loadConfigFile(configPath);
  const path = output ?? config.appservice.registration;
  if (existsSync(path) && !force) {
    throw new BridgeError(
      "REGISTRATION_EXISTS",
      `${path} already exists`,
      "Pass --force to replace it (the homeserver must then load the new file), or choose another --output",
    );
  }
  const registration = buildRegistration(config);
  writeRegistration(path, registration);
  say(
    `Wrote ${path} (appservice id '${registration.id}', bot @${registration.sender_localpart}:${config.homeserver.domain}).`,
  );
  say(
    "Next: add it to app_service_config_files in homeserver.yaml, restart the homeserver, then run `matrix-agent-bridge start`.",
  );
  return 0;
}
