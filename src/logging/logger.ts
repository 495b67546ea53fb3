import pino, { type Logger } from "pino";

import { redactDeep, registerSecrets, scrubSecrets } from "./redact";

export { registerSecrets, scrubSecrets };

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
    // Every argument (objects at any depth, errors, strings) is copied without its secrets before
    // pino serializes it (see redact.ts); errors arrive as plain objects already.
    serializers: { err: (value: unknown) => value },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        const clean =
          first instanceof Error
            ? [{ err: redactDeep(first) }, ...(rest.length ? rest : [first.message]).map(redactDeep)]
            : args.map(redactDeep);
        return method.apply(this, clean as typeof args);
      },
    },
  };
  const logger = destination
    ? pino(options, destination)
    : pretty
      ? pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true } } })
      : pino(options);
  // Child bindings are serialized once, when the child is made: scrub them there. Children
  // inherit this method from the root through their prototype chain.
  const pinoChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return pinoChild.call(this, redactDeep(bindings) as pino.Bindings, childOptions);
  } as Logger["child"];
  return logger;
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

/**
 * `parent.child(bindings)`, made on first use: a per-event logger (an agent's context) costs
 * nothing when nothing logs, instead of scrubbing and serializing its bindings for every command.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy({} as Logger, {
    get(_target, prop) {
      child ??= parent.child(bindings);
      const value = Reflect.get(child, prop, child);
      return typeof value === "function" ? value.bind(child) : value;
    },
  });
}
