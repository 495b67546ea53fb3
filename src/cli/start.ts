import { loadCheckedConfig } from "../config/checkedConfig";
import { configureLogging, moduleLogger, type LoggingOptions } from "../logging/logger";
import { AgentBridge } from "../appservice/agentBridge";
import { BridgeError, errorMessage } from "../errors";

const log = moduleLogger("cli/start");

/** Runs the bridge until SIGTERM/SIGINT; resolves to the exit code. */
export async function runStart(configPath: string): Promise<number> {
  const { config, warnings } = loadCheckedConfig(configPath);
  configureLogging({
    level: config.logging.level,
    format: config.logging.format as LoggingOptions["format"],
  });
  for (const warning of warnings) log.warn(warning);
  const bridge = new AgentBridge(config);
  try {
    await bridge.start();
  } catch (err) {
    log.fatal(
      { err: errorMessage(err), hint: err instanceof BridgeError ? err.hint : undefined },
      "Bridge failed to start",
    );
    await bridge.stop().catch(() => undefined);
    throw err;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "Stopping");
      bridge.stop().then(resolve, (err) => {
        log.error({ err: errorMessage(err) }, "Error while stopping");
        resolve();
      });
    };
    process.once("SIGTERM", () => onSignal("SIGTERM"));
    process.once("SIGINT", () => onSignal("SIGINT"));
  });
  return 0;
}
