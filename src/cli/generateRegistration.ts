import { existsSync } from "node:fs";
import { loadCheckedConfig } from "../config/checkedConfig";
import { BridgeError } from "../errors";
import { buildRegistration, writeRegistration } from "../appservice/registration";
import { complain, say } from "./output";
import { fileErrorReason } from "./fileErrors";

export async function runGenerateRegistration(
  configPath: string,
  output: string | undefined,
  force: boolean,
) {
  const { config, warnings } = loadCheckedConfig(configPath);
  for (const warning of warnings) complain(`Warning: ${warning}`);
  const path = output ?? config.appservice.registration;
  if (existsSync(path) && !force) {
    throw new BridgeError(
      "REGISTRATION_EXISTS",
      `${path} already exists`,
      "Pass --force to replace it (the homeserver must then load the new file), or choose another --output",
    );
  }
  const registration = buildRegistration(config);
  try {
    writeRegistration(path, registration);
  } catch (err) {
    const problem = fileErrorReason(err);
    if (!problem) throw err;
    throw new BridgeError(
      "FILE_WRITE",
      `Cannot write the registration to ${path}: ${problem}`,
      "Choose a writable path with --output, or set appservice.registration",
    );
  }
  say(
    `Wrote ${path} (appservice id '${registration.id}', bot @${registration.sender_localpart}:${config.homeserver.domain}).`,
  );
  say(
    "Next: add it to app_service_config_files in homeserver.yaml, restart the homeserver, then run `matrix-agent-bridge start`.",
  );
  return 0;
}
