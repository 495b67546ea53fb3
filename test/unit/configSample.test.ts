import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { renderSampleConfig } from "../../src/config/sample";
import { SECTIONS } from "../../src/config/bridgeConfig";
import { COMMON_SPEC } from "../../src/agents/agentConfig";
import { AGENT_DEFINITIONS } from "../../src/agents/registry";
import { loadCheckedConfig } from "../../src/config/checkedConfig";
import { main } from "../../src/cli/index";

const root = join(__dirname, "..", "..");
const samplePath = join(root, "config", "config.sample.yaml");

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = jest.spyOn(process.stdout, "write").mockImplementation((c) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((c) => ((err += String(c)), true));
  try {
    return { code: await main(["node", "matrix-agent-bridge", ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** Every key the spec knows, as dotted paths (agents included). */
function specKeys(): Set<string> {
  const keys = new Set<string>();
  for (const [section, spec] of Object.entries(SECTIONS)) {
    for (const key of Object.keys(spec)) keys.add(`${section}.${key}`);
  }
  for (const key of Object.keys(COMMON_SPEC)) keys.add(`agents.<id>.${key}`);
  for (const { manifest } of AGENT_DEFINITIONS) {
    for (const key of Object.keys({ ...COMMON_SPEC, ...(manifest.configSpec ?? {}) })) {
      keys.add(`agents.${manifest.id}.${key}`);
    }
  }
  return keys;
}

/**
 * The config keys the README's tables document: full paths in the main table ("`a.b` / `c`"
 * means a.b and a.c), bare keys in an agent's table under a "(`agents.<id>`" heading.
 */
function readmeKeys(): string[] {
  const keys: string[] = [];
  let agent: string | undefined;
  for (const line of readFileSync(join(root, "README.md"), "utf8").split("\n")) {
    const heading = /\(`agents\.([a-z]+)`/.exec(line);
    if (heading) agent = heading[1];
    if (/^#{1,3} /.test(line)) agent = undefined;
    if (!line.startsWith("| `")) continue;
    const cell = line.split("|")[1];
    const tokens = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    let prefix: string | undefined;
    for (const token of tokens) {
      if (token.includes(".")) {
        prefix = token.slice(0, token.lastIndexOf("."));
        keys.push(token);
      } else if (prefix) keys.push(`${prefix}.${token}`);
      else if (agent && /^[a-z_]+$/.test(token)) keys.push(`agents.${agent}.${token}`);
    }
  }
  return keys.filter((k) =>
    /^(homeserver|appservice|database|bridge|logging|metrics|delivery|agents|encryption)\./.test(k),
  );
}

describe("config/config.sample.yaml", () => {
  it("is exactly what the config specs generate (run `npm run gen:config` after changing a spec)", () => {
    expect(readFileSync(samplePath, "utf8")).toBe(renderSampleConfig());
  });

  it("lists every key of every section and agent", () => {
    const sample = yaml.load(readFileSync(samplePath, "utf8")) as Record<string, Record<string, unknown>>;
    const text = readFileSync(samplePath, "utf8");
    for (const key of specKeys()) {
      if (key.startsWith("agents.<id>")) continue;
      const [section, ...rest] = key.split(".");
      const leaf = rest.at(-1)!;
      const present =
        section === "agents"
          ? text.includes(`    ${leaf}:`) || text.includes(`    # ${leaf}:`)
          : (sample[section] && leaf in sample[section]) || text.includes(`  # ${leaf}:`);
      expect([key, present]).toEqual([key, true]);
    }
  });

  it("loads, with only the homeserver filled in, and validates every agent section", () => {
    const dir = mkdtempSync(join(tmpdir(), "mab-sample-"));
    const path = join(dir, "config.yaml");
    writeFileSync(
      path,
      readFileSync(samplePath, "utf8")
        .replace("url: http://127.0.0.1:8008", "url: https://matrix.example.net")
        .replace("domain: example.org", "domain: example.net"),
    );
    const { config, agents, warnings } = loadCheckedConfig(path, {});
    expect(config.homeserver).toEqual({ url: "https://matrix.example.net", domain: "example.net" });
    expect(config.database.pool_max).toBe(10);
    expect(agents.map((a) => a.id).sort()).toEqual(["faq", "reminders", "timer"]);
    expect(warnings).toEqual([]);
  });

  it("goes through the real CLI: generate-registration accepts the committed sample", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mab-sample-cli-"));
    const output = join(dir, "registration.yaml");
    const result = await cli("generate-registration", "--config", samplePath, "--output", output);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(yaml.load(readFileSync(output, "utf8"))).toMatchObject({ id: "matrix-agent-bridge" });
  });

  it("every key the README documents exists in the specs", () => {
    const documented = readmeKeys();
    expect(documented.length).toBeGreaterThan(30);
    expect(documented).toContain("database.pool_max");
    expect(documented).toContain("agents.faq.edit_power_level");
    const known = specKeys();
    for (const key of documented) expect([key, known.has(key)]).toEqual([key, true]);
  });
});
