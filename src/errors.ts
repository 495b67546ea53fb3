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
    problem: string,
    hint?: string,
  ) {
    super("CONFIG_INVALID", `Config key '${key}': ${problem}`, hint);
  }
}

/** The homeserver refused us or could not be reached. */
export class HomeserverError extends BridgeError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("HOMESERVER_UNAVAILABLE", message, hint, options);
  }
}

/** A command from a user could not be understood; the message is shown to the user as-is. */
export class UserInputError extends BridgeError {
  constructor(message: string) {
    super("USER_INPUT", message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
