import { ConfigError, ConfigErrors } from "../errors";

/**
 * A tiny declarative schema for config sections. Each field knows its type, default and
 * doc line, which gives us three things from one definition: validation with errors that
 * name the exact key, environment overrides (`MAB_<SECTION>_<KEY>`), and defaults.
 */
export type FieldSpec =
  | {
      type: "string";
      default?: string;
      required?: boolean;
      doc: string;
      pattern?: RegExp;
      patternHint?: string;
    }
  | { type: "url"; default?: string; required?: boolean; doc: string; schemes?: string[] }
  | { type: "int"; default?: number; required?: boolean; doc: string; min?: number; max?: number }
  | { type: "bool"; default?: boolean; required?: boolean; doc: string }
  | { type: "enum"; values: readonly string[]; default?: string; required?: boolean; doc: string }
  | { type: "stringList"; default?: string[]; required?: boolean; doc: string };

export type SectionSpec = Record<string, FieldSpec>;

type ValueOf<F extends FieldSpec> = F extends { type: "int" }
  ? number
  : F extends { type: "bool" }
    ? boolean
    : F extends { type: "stringList" }
      ? string[]
      : string;

/** The validated shape of a section: fields with a default or `required` are always present. */
export type SectionValues<S extends SectionSpec> = {
  [K in keyof S as S[K] extends { default: unknown } | { required: true } ? K : never]: ValueOf<S[K]>;
} & {
  [K in keyof S as S[K] extends { default: unknown } | { required: true } ? never : K]?: ValueOf<S[K]>;
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "string" ? `"${value}"` : typeof value;
}

function coerce(key: string, spec: FieldSpec, raw: unknown, fromEnv: boolean): unknown {
  switch (spec.type) {
    case "string":
    case "url":
    case "enum": {
      if (typeof raw !== "string" && !(typeof raw === "number" && spec.type === "string")) {
        throw new ConfigError(key, `expected a string, got ${describe(raw)}`);
      }
      const value = String(raw);
      if (spec.type === "enum" && !spec.values.includes(value)) {
        throw new ConfigError(key, `must be one of ${spec.values.join(", ")}, got "${value}"`);
      }
      if (spec.type === "string" && spec.pattern && !spec.pattern.test(value)) {
        throw new ConfigError(key, `"${value}" is not valid`, spec.patternHint);
      }
      if (spec.type === "url") {
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          throw new ConfigError(
            key,
            `"${value}" is not a URL`,
            "Write it in full, e.g. http://127.0.0.1:8008",
          );
        }
        const schemes = spec.schemes ?? ["http", "https"];
        if (!schemes.includes(url.protocol.replace(/:$/, ""))) {
          throw new ConfigError(key, `scheme must be one of ${schemes.join(", ")}, got "${url.protocol}"`);
        }
      }
      return value;
    }
    case "int": {
      const n = typeof raw === "string" && fromEnv ? Number(raw.trim()) : raw;
      if (typeof n !== "number" || !Number.isInteger(n)) {
        throw new ConfigError(key, `expected a whole number, got ${describe(raw)}`);
      }
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(key, `must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(key, `must be at most ${spec.max}`);
      return n;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (fromEnv && typeof raw === "string") {
        if (/^(true|1|yes|on)$/i.test(raw)) return true;
        if (/^(false|0|no|off)$/i.test(raw)) return false;
      }
      throw new ConfigError(key, `expected true or false, got ${describe(raw)}`);
    }
    case "stringList": {
      if (fromEnv && typeof raw === "string") {
        return raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      }
      if (!Array.isArray(raw) || raw.some((v) => typeof v !== "string")) {
        throw new ConfigError(key, `expected a list of strings, got ${describe(raw)}`);
      }
      return raw;
    }
  }
}

/** The environment variable that overrides `path` (e.g. ["database", "url"] → MAB_DATABASE_URL). */
export function envName(path: readonly string[]): string {
  return ["MAB", ...path]
    .join("_")
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, "_");
}

/**
 * Validates one section. `path` is where it lives (e.g. ["agents", "reminders"]), used in
 * error messages and env names. Unknown keys are errors: a typo must not be ignored silently.
 */
export function validateSection<S extends SectionSpec>(
  path: readonly string[],
  spec: S,
  raw: unknown,
  env: NodeJS.ProcessEnv = {},
): SectionValues<S> {
  const where = path.join(".");
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ConfigError(where, `expected a section (key: value pairs), got ${describe(raw)}`);
  }
  const input = (raw ?? {}) as Record<string, unknown>;
  const errors: ConfigError[] = [];
  for (const key of Object.keys(input)) {
    if (!(key in spec)) {
      const known = Object.keys(spec).join(", ");
      errors.push(new ConfigError(`${where}.${key}`, "unknown key", `Known keys in '${where}': ${known}`));
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    const fullKey = `${where}.${key}`;
    const variable = envName([...path, key]);
    const fromEnv = env[variable];
    const value = fromEnv !== undefined ? fromEnv : input[key];
    if (value === undefined || value === null || value === "") {
      if (field.default !== undefined) out[key] = field.default;
      else if (field.required) {
        errors.push(new ConfigError(fullKey, "is required", `${field.doc} (or set ${variable})`));
      }
      continue;
    }
    try {
      out[key] = coerce(fullKey, field, value, fromEnv !== undefined);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // The file may be right and the environment wrong: say which one the value came from.
      errors.push(
        fromEnv === undefined ? err : new ConfigError(fullKey, `${err.problem} (from ${variable})`, err.hint),
      );
    }
  }
  ConfigErrors.throwIfAny(errors);
  return out as SectionValues<S>;
}
