import yaml from "js-yaml";
import { COMMON_SPEC } from "../agents/agentConfig";
import { AGENT_DEFINITIONS } from "../agents/registry";
import type { AgentDefinition } from "../agents/types";
import { SECTIONS } from "./bridgeConfig";
import { envName, type FieldSpec, type SectionSpec } from "./fields";

/**
 * Renders config/config.sample.yaml from the config specs, so the sample always loads and
 * lists every key with its default and doc line. `npm run gen:config` writes it; a unit test
 * fails when the committed file differs.
 */

const HEADER = [
  "matrix-agent-bridge configuration. Copy to config/config.yaml and edit.",
  "GENERATED from the config specs by `npm run gen:config`: do not edit by hand.",
  "Every key can be overridden by an environment variable MAB_<SECTION>_<KEY>, e.g.",
  "MAB_DATABASE_URL, MAB_HOMESERVER_URL, MAB_AGENTS_ECHO_ENABLED=false; lists in",
  "environment variables are comma-separated. Commented-out keys have no default.",
];

/** A line or two about each section; a section without one is simply listed. */
const SECTION_DOCS: Record<string, string> = {
  homeserver: "The homeserver the bridge serves (fill in both).",
  appservice: "The bridge's side of the appservice registration.",
  database: "Empty url: the embedded database (SQLite, or PGlite for a data_dir that has one) in data_dir.",
  bridge: "Who may do what, and bridge-wide defaults.",
  logging: "pino JSON logs (pretty when attached to a terminal).",
  metrics: "Prometheus metrics on /metrics (same port as the appservice API).",
  delivery: "Exactly-once plumbing: outbound queue, shutdown, pruning.",
  admin: "Operator commands from the CLI while the bridge runs (bridge admins can also DM the bridge bot).",
};

/** Values shown for keys that have no default (required ones must be filled in). */
const EXAMPLES: Record<string, unknown> = {
  "homeserver.url": "http://127.0.0.1:8008",
  "homeserver.domain": "example.org",
  "database.url": "postgres://bridge:secret@127.0.0.1:5432/agentbridge",
  "metrics.token": "change-me",
};

const WIDTH = 96;

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + 2 + line.length + 1 + word.length > WIDTH) {
      lines.push(`${indent}# ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(`${indent}# ${line}`);
  return lines;
}

function scalar(value: unknown): string {
  return yaml.dump(value, { flowLevel: 0, lineWidth: -1 }).trim();
}

function fieldLines(
  path: string[],
  key: string,
  field: FieldSpec,
  indent: string,
  example?: unknown,
): string[] {
  const dotted = [...path, key].join(".");
  const extra: string[] = [];
  if (field.type === "enum") extra.push(`one of ${field.values.join(", ")}`);
  if (field.type === "int" && (field.min !== undefined || field.max !== undefined)) {
    extra.push(
      [field.min !== undefined ? `min ${field.min}` : "", field.max !== undefined ? `max ${field.max}` : ""]
        .filter(Boolean)
        .join(", "),
    );
  }
  extra.push(envName([...path, key]));
  const lines = wrap(`${field.doc} (${extra.join("; ")})`, indent);
  const value = field.default ?? example ?? EXAMPLES[dotted];
  if (field.default !== undefined || field.required) lines.push(`${indent}${key}: ${scalar(value ?? "")}`);
  else lines.push(`${indent}# ${key}: ${value === undefined ? "" : scalar(value)}`.trimEnd());
  return lines;
}

function sectionLines(
  path: string[],
  spec: SectionSpec,
  indent: string,
  examples: Record<string, unknown> = {},
): string[] {
  const lines: string[] = [];
  for (const [key, field] of Object.entries(spec))
    lines.push(...fieldLines(path, key, field, indent, examples[key]));
  return lines;
}

function agentLines(definition: AgentDefinition): string[] {
  const { manifest } = definition;
  const lines = wrap(`${manifest.displayName}: ${manifest.summary}`, "  ");
  lines.push(`  ${manifest.id}:`);
  const common: SectionSpec = {
    ...COMMON_SPEC,
    enabled: { ...COMMON_SPEC.enabled, default: manifest.enabledByDefault },
  };
  const examples = { display_name: manifest.displayName, avatar_url: manifest.avatarUrl };
  lines.push(
    ...sectionLines(["agents", manifest.id], { ...common, ...(manifest.configSpec ?? {}) }, "    ", examples),
  );
  return lines;
}

export function renderSampleConfig(definitions: readonly AgentDefinition[] = AGENT_DEFINITIONS): string {
  const lines = HEADER.map((l) => `# ${l}`);
  for (const [name, spec] of Object.entries(SECTIONS)) {
    lines.push("");
    if (SECTION_DOCS[name]) lines.push(...wrap(SECTION_DOCS[name], ""));
    lines.push(`${name}:`);
    lines.push(...sectionLines([name], spec, "  "));
  }
  lines.push("");
  lines.push(
    ...wrap("One section per agent. The display name may change freely; the user id never does.", ""),
  );
  lines.push("agents:");
  for (const definition of definitions) lines.push(...agentLines(definition));
  return `${lines.join("\n")}\n`;
}
