import pino, { type Logger } from "pino";

/**
 * Paths whose values are secrets. pino replaces them with "[redacted]" wherever a logged
 * object carries them, so a token passed to a log call by mistake never reaches the output.
 */
export const REDACTED_PATHS = [
  "as_token",
  "hs_token",
  "asToken",
  "hsToken",
  "access_token",
  "accessToken",
  "password",
  "token",
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "*.as_token",
  "*.hs_token",
  "*.asToken",
  "*.hsToken",
  "*.access_token",
  "*.accessToken",
  "*.password",
  "*.authorization",
  "*.registration_shared_secret",
];

/** Patterns scrubbed from free-text log lines (e.g. lines forwarded from the bridge library). */
const SECRET_IN_TEXT = [
  /(access_token=)[^&\s"]+/gi,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g,
  /("(?:as_token|hs_token|access_token|password)"\s*:\s*")[^"]*/g,
];

export function scrubSecrets(text: string, secrets: readonly string[] = knownSecrets): string {
  let out = text;
  for (const pattern of SECRET_IN_TEXT) out = out.replace(pattern, "$1[redacted]");
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join("[redacted]");
  }
  return out;
}

let knownSecrets: string[] = [];

/** Registers literal secret values (the tokens) so they are scrubbed from any text we log. */
export function registerSecrets(...secrets: string[]): void {
  knownSecrets = [...new Set([...knownSecrets, ...secrets.filter((s) => s && s.length >= 8)])];
}

export interface LoggingOptions {
  level: string;
  /** "auto" pretty-prints when stdout is a terminal. */
  format: "json" | "pretty" | "auto";
}

let root: Logger = createRootLogger({ level: process.env.MAB_LOGGING_LEVEL ?? "info", format: "auto" });

export function createRootLogger(opts: LoggingOptions, destination?: pino.DestinationStream): Logger {
  const pretty = opts.format === "pretty" || (opts.format === "auto" && process.stdout.isTTY === true);
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: "matrix-agent-bridge" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    hooks: {
      // Free-text messages can carry secrets too (a URL with ?access_token=...).
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a)) as typeof args;
        return method.apply(this, scrubbed);
      },
    },
  };
  if (destination) return pino(options, destination);
  if (pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino(options);
}

/** Replaces the root logger; module loggers created afterwards (and existing ones, via the proxy) use it. */
export function configureLogging(opts: LoggingOptions, destination?: pino.DestinationStream): Logger {
  root = createRootLogger(opts, destination);
  return root;
}

export function rootLogger(): Logger {
  return root;
}

/**
 * A logger for one module. It resolves the root on every call, so loggers created at import
 * time follow a later `configureLogging` (the CLI configures logging after modules load).
 */
export function moduleLogger(module: string): Logger {
  const cache = new WeakMap<Logger, Logger>();
  const current = (): Logger => {
    let child = cache.get(root);
    if (!child) {
      child = root.child({ module });
      cache.set(root, child);
    }
    return child;
  };
  return new Proxy({} as Logger, {
    get(_target, prop) {
      const target = current();
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
