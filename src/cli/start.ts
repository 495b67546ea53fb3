import { loadCheckedConfig } from "../config/checkedConfig";
import { configureLogging, moduleLogger, type LoggingOptions } from "../logging/logger";
import { AgentBridge } from "../appservice/agentBridge";
import { BridgeError, errorMessage } from "../errors";

const log = moduleLogger("cli/start");

/** How long a signal that came during start-up waits for the start to finish before exiting. */
const STOP_DURING_START_MS = 5_000;

/** Runs the bridge until SIGTERM/SIGINT; resolves to the exit code. */
export async function runStart(configPath: string): Promise<number> {
  const { config, warnings } = loadCheckedConfig(configPath);
  configureLogging({
    level: config.logging.level,
    format: config.logging.format as LoggingOptions["format"],
  });
  for (const warning of warnings) log.warn(warning);
  const bridge = new AgentBridge(config);
  // Signals are taken from the start: /ready answers 200 before start() has finished its
  // after-ready work (profile sync, space repair), and a SIGTERM then must still stop cleanly,
  // once start() is done, rather than kill the process. A start that is stuck (a homeserver that
  // does not answer) still ends on a signal, as it did without the handler.
  let started = false;
  let signalled: (signal: string) => void = () => undefined;
  const signal = new Promise<string>((resolve) => (signalled = resolve));
  const onSignal = (name: string) => {
    signalled(name);
    if (started) return;
    setTimeout(() => {
      log.warn({ signal: name }, "Stopped during start-up");
      process.exit(name === "SIGINT" ? 130 : 143);
    }, STOP_DURING_START_MS).unref();
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
  try {
    await bridge.start();
    started = true;
  } catch (err) {
    log.fatal(
      { err: errorMessage(err), hint: err instanceof BridgeError ? err.hint : undefined },
      "Bridge failed to start",
    );
    await bridge.stop().catch(() => undefined);
    throw err;
  }
  log.info({ signal: await signal }, "Stopping");
  await bridge.stop().catch((err) => log.error({ err: errorMessage(err) }, "Error while stopping"));
  return 0;
}
