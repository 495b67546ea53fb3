/**
 * Child-process entry of the fault tests: runs one bridge (the echo agent only, so other agents'
 * work in progress cannot disturb the counts) from a config file, like `matrix-agent-bridge start`.
 *
 *   node -r ./test/harness/tsHook.js test/harness/bridgeMain.ts <config.yaml>
 *
 * SIGTERM/SIGINT stop it gracefully (exit 0). Crash points are armed with MAB_FAULT_KILL_AT (see
 * src/faultPoints.ts); delivery settings come from MAB_DELIVERY_* variables. It kills itself if
 * its parent (the test runner) dies, so no bridge outlives a test run.
 */
import { loadConfigFile } from "../../src/config/bridgeConfig";
import { configureLogging, type LoggingOptions } from "../../src/logging/logger";
import { AgentBridge } from "../../src/appservice/agentBridge";
import { echoAgent } from "../../src/agents/echo";
import { timerAgent } from "../../src/agents/timer";

async function main(configPath: string): Promise<void> {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGKILL");
  }, 500).unref();

  const config = loadConfigFile(configPath);
  configureLogging({
    level: config.logging.level,
    format: config.logging.format as LoggingOptions["format"],
  });
  // MAB_TEST_WITH_TIMER=1 adds the timer agent (scheduler tests).
  const definitions = process.env.MAB_TEST_WITH_TIMER ? [echoAgent, timerAgent] : [echoAgent];
  let bridge = new AgentBridge(config, { definitions });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[bridge] ${signal}: stopping\n`);
    bridge.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`[bridge] stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  // Synapse sometimes fails the start-up ping right after the previous process died mid-request
  // (502 "AlreadyCalled", reported as M_CONNECTION_FAILED); the CLI gives up at once. Until the
  // ping retries such failures itself, this entry tries the start again a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await bridge.start();
      break;
    } catch (err) {
      await bridge.stop().catch(() => undefined);
      if (stopping || attempt >= 4 || !/M_CONNECTION_FAILED|M_CONNECTION_TIMEOUT/.test(String(err)))
        throw err;
      process.stderr.write(`[bridge] start failed (${String(err)}); trying again\n`);
      await new Promise((r) => setTimeout(r, 500 * attempt));
      bridge = new AgentBridge(config, { definitions });
    }
  }
  process.stdout.write(`[bridge] ready on port ${bridge.port}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(
    `[bridge] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
