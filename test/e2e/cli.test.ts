import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { main } from "../../src/cli/index";
import { BridgeFixture } from "../harness/bridgeFixture";
import { EXIT } from "../../src/cli/exitCodes";

/** Runs the CLI in-process and captures what it prints. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    const code = await main(["node", "matrix-agent-bridge", ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function writeConfig(dir: string, config: unknown): string {
  const path = join(dir, "config.yaml");
  writeFileSync(path, yaml.dump(config));
  return path;
}

describe("CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "mab-cli-"));
  const basic = { homeserver: { url: "http://127.0.0.1:1", domain: "example.org" } };

  it("generate-registration writes a registration and refuses to overwrite it without --force", async () => {
    const config = writeConfig(dir, basic);
    const output = join(dir, "registration.yaml");
    const first = await cli("generate-registration", "--config", config, "--output", output);
    expect(first.code).toBe(0);
    expect(first.out).toContain("app_service_config_files");
    const written = yaml.load(readFileSync(output, "utf8")) as Record<string, unknown>;
    expect(written).toMatchObject({
      sender_localpart: "agentbridge",
      rate_limited: false,
      receive_ephemeral: true,
    });
    const again = await cli("generate-registration", "--config", config, "--output", output);
    expect(again.code).toBe(1);
    expect(again.err).toContain("--force");
    expect((await cli("generate-registration", "--config", config, "--output", output, "--force")).code).toBe(
      0,
    );
    expect((yaml.load(readFileSync(output, "utf8")) as { as_token: string }).as_token).not.toBe(
      written.as_token,
    );
  });

  it("names the bad key when the config is wrong", async () => {
    const config = writeConfig(dir, { ...basic, appservice: { port: "nine thousand" } });
    const result = await cli("start", "--config", config);
    expect(result.code).toBe(EXIT.CONFIG);
    expect(result.err).toContain("Config key 'appservice.port'");
  });

  it("explains a missing config file", async () => {
    const result = await cli("doctor", "--config", join(dir, "missing.yaml"));
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/✘ config: Cannot read config file .*missing\.yaml/);
    expect(result.out).toContain("config.sample.yaml");
  });

  it("has --help on every subcommand", async () => {
    for (const sub of ["start", "generate-registration", "doctor"]) {
      const proc = spawn(process.execPath, ["bin/matrix-agent-bridge.js", sub, "--help"]);
      let text = "";
      proc.stdout.on("data", (d) => (text += d));
      const code = await new Promise((r) => proc.on("exit", r));
      expect(code).toBe(0);
      expect(text).toContain(`Usage: matrix-agent-bridge ${sub}`);
      expect(text).toContain("--config");
    }
  });
});

describe("CLI against a real Synapse", () => {
  let fixture: BridgeFixture;
  let configPath: string;

  beforeAll(async () => {
    fixture = await BridgeFixture.create();
    const { agents: _agents, ...sections } = fixture.config;
    configPath = writeConfig(fixture.dir, { ...sections, logging: { level: "debug", format: "json" } });
  });
  afterAll(async () => fixture?.close());

  it("doctor passes every check on a correct setup", async () => {
    const result = await cli("doctor", "--config", configPath);
    expect(result.out).not.toContain("✘");
    expect(result.out).toContain("✔ homeserver reaches the bridge (ping)");
    expect(result.out).toContain("Everything looks right.");
    expect(result.code).toBe(0);
  });

  it("doctor explains a registration the homeserver does not know", async () => {
    const otherReg = join(fixture.dir, "other-registration.yaml");
    expect((await cli("generate-registration", "--config", configPath, "--output", otherReg)).code).toBe(0);
    const { agents: _agents, ...sections } = fixture.config;
    const badConfig = writeConfig(mkdtempSync(join(tmpdir(), "mab-cli-bad-")), {
      ...sections,
      appservice: { ...sections.appservice, registration: otherReg },
    });
    const result = await cli("doctor", "--config", badConfig);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/✘ as_token accepted: .*/);
    expect(result.out).toContain("app_service_config_files");
    // The ping check needs the same registration: said once, not a line per dependent check.
    expect(
      result.out.split("\n").filter((l) => l.includes("app_service_config_files")).length,
    ).toBeLessThanOrEqual(2);
    expect(new Set(result.out.split("\n").filter(Boolean)).size).toBe(
      result.out.split("\n").filter(Boolean).length,
    );
    // start refuses with the "token refused" exit code, distinct from a config error.
    const start = await cli("start", "--config", badConfig);
    expect(start.code).toBe(EXIT.TOKEN_REFUSED);
    expect(start.err).toContain("refused our as_token");
  });

  it("start runs the bridge as a process: ready, JSON logs without secrets, clean exit on SIGTERM", async () => {
    const started = Date.now();
    const proc = spawn(process.execPath, ["bin/matrix-agent-bridge.js", "start", "--config", configPath], {
      env: { ...process.env, MAB_LOGGING_FORMAT: "json", MAB_LOGGING_LEVEL: "debug" },
    });
    let logs = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (logs += d));
    proc.stderr.on("data", (d) => (stderr += d));
    try {
      const readyUrl = `http://127.0.0.1:${fixture.config.appservice.port}/ready`;
      let ready = false;
      for (let i = 0; i < 300 && !ready; i++) {
        ready = await fetch(readyUrl)
          .then((r) => r.ok)
          .catch(() => false);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      if (!ready)
        throw new Error(`not ready after 30 s; stderr:\n${stderr}\nlog tail:\n${logs.slice(-4000)}`);
      process.stdout.write(`[cli] bridge process ready after ${Date.now() - started} ms\n`);
    } finally {
      proc.kill("SIGTERM");
    }
    const code = await new Promise((r) => proc.on("exit", r));
    expect(code).toBe(0);
    const lines = logs.trim().split("\n");
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(logs).toContain("Bridge ready");
    // One start-up line says how encrypted rooms are treated (on here: the default).
    expect(logs).toContain("Encryption is on: every agent has an encrypted, cross-signed device");
    for (const output of [logs, stderr]) {
      expect(output).not.toContain(fixture.registration.as_token);
      expect(output).not.toContain(fixture.registration.hs_token);
    }
    expect(existsSync(join(fixture.dir, "data", "bridge.sqlite"))).toBe(true); // the embedded default
  });
});
