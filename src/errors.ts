/**
 * One error model for the bridge. Every error we raise on purpose is a BridgeError with a
 * stable `code`, so callers (CLI, HTTP handlers, agents) can tell them apart without
 * string matching, and a `hint` that says what the operator should do.
 */
export class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The message plus the hint, as printed by the CLI. */
  explain(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** A configuration value is missing or wrong. `key` is the dotted path, e.g. `database.url`. */
export class ConfigError extends BridgeError {
  constructor(
    readonly key: string,
    readonly problem: string,
    hint?: string,
  ) {
    super("CONFIG_INVALID", `Config key '${key}': ${problem}`, hint);
  }
}

/**
 * Several config problems at once: an operator fixing a config wants every mistake in one
 * run, not one per restart. `errors` holds each problem with its key.
 */
export class ConfigErrors extends BridgeError {
  constructor(readonly errors: readonly ConfigError[]) {
    super(
      "CONFIG_INVALID",
      `${errors.length} problems in the config:\n${errors.map((e) => `  - ${e.explain().replace(/\n/g, "\n    ")}`).join("\n")}`,
    );
  }

  /** Throws nothing for no errors, the error itself for one, a ConfigErrors for several. */
  static throwIfAny(errors: readonly ConfigError[]): void {
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new ConfigErrors(errors);
  }

  /** The individual problems of a ConfigError or ConfigErrors (anything else is rethrown). */
  static flatten(err: unknown): ConfigError[] {
    if (err instanceof ConfigErrors) return [...err.errors];
    if (err instanceof ConfigError) return [err];
    throw err;
  }
}

/** The homeserver refused us or could not be reached. */
export class HomeserverError extends BridgeError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("HOMESERVER_UNAVAILABLE", message, hint, options);
  }
}

/**
 * The homeserver answered but refused us: our as_token, the appservice id, or (seen from its
 * side) our hs_token. Distinct from "unreachable" because restarting will not help.
 */
export class TokenRefusedError extends HomeserverError {}

/** A command from a user could not be understood; the message is shown to the user as-is. */
export class UserInputError extends BridgeError {
  constructor(message: string) {
    super("USER_INPUT", message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
