import { Writable } from "node:stream";
import { Logger as LibraryLogger } from "matrix-appservice-bridge";
import { moduleLogger, scrubSecrets } from "./logger";

const log = moduleLogger("matrix-appservice-bridge");

const LEVELS: Record<string, "trace" | "debug" | "info" | "warn" | "error"> = {
  TRACE: "trace",
  DEBUG: "debug",
  VERBOSE: "debug",
  INFO: "info",
  WARN: "warn",
  ERROR: "error",
};

/**
 * matrix-appservice-bridge logs through winston (and pipes the bot-sdk's logs into it), and
 * drops everything until it is configured. We configure it to write JSON lines into a stream
 * that re-emits each line through pino, so one log stream carries everything, with the same
 * secret scrubbing as our own lines.
 */
export function routeBridgeLibraryLogs(): void {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim()) forward(line);
      }
      callback();
    },
  });
  LibraryLogger.root.configureLogging({ json: true }, sink);
}

const EXPECTED_MISSES = /M_NOT_FOUND|No row found \(profiles\)/;
/**
 * The library registers a user before first use and logs "User ID is in use" as an error when the
 * user exists, which is the normal case on every start after the first (it then goes on as intended).
 */
const EXPECTED_APPSERVICE = /^Error registering user: User ID is in use/;

/** The level a library log line is re-emitted at: expected misses are debug, not errors an operator must read. */
export function libraryLevel(level: string | undefined, module: string | undefined, text: string) {
  const mapped = LEVELS[(level ?? "INFO").toUpperCase()] ?? "info";
  if (mapped !== "error") return mapped;
  if (module === "MatrixHttpClient" && EXPECTED_MISSES.test(text)) return "debug";
  if (module === "Appservice" && EXPECTED_APPSERVICE.test(text)) return "debug";
  return mapped;
}

function forward(line: string): void {
  let entry: { level?: string; module?: string; message?: string; error?: string; args?: unknown };
  try {
    entry = JSON.parse(line);
  } catch {
    log.info(scrubSecrets(line));
    return;
  }
  const text = scrubSecrets(String(entry.message ?? ""));
  // The bot-sdk logs every non-2xx answer as an error, including the 404s we ask for on
  // purpose (does this alias exist yet? has this new user a profile?). Our own code logs
  // the failures that matter, so these would only alarm operators.
  const level = libraryLevel(entry.level, entry.module, text);
  const extra: Record<string, unknown> = { libModule: entry.module };
  if (entry.error) extra.err = scrubSecrets(entry.error);
  if (entry.args !== undefined) extra.args = scrubSecrets(JSON.stringify(entry.args)).slice(0, 2000);
  log[level](extra, text);
}
