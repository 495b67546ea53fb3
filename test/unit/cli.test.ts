import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { runCli as cli } from "../support/cliRun";
import { EXIT, exitCodeFor } from "../../src/cli/exitCodes";
import { explainPingFailure } from "../../src/appservice/ping";
import { MatrixHttpError } from "../../src/appservice/homeserverClient";
import { parseConfig } from "../../src/config/bridgeConfig";
import { ConfigError } from "../../src/errors";

const root = join(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "mab-cli-unit-"));
const configPath = join(dir, "config.yaml");
writeFileSync(configPath, yaml.dump({ homeserver: { url: "http://127.0.0.1:1", domain: "example.org" } }));

describe("CLI habits", () => {
  it("prints the package version with --version", async () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    const result = await cli("--version");
    expect(result.code).toBe(0);
    expect(result.out.trim()).toBe(version);
  });

  it("exits with the config code and all problems, without a stack trace", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, yaml.dump({ homeserver: { url: "nope" }, appservice: { port: "x" } }));
    const result = await cli("generate-registration", "--config", bad, "--output", join(dir, "r.yaml"));
    expect(result.code).toBe(EXIT.CONFIG);
    expect(result.err).toContain("3 problems in the config");
    expect(result.err).toContain("'homeserver.domain'");
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  it("explains a config file that cannot be read or parsed, with the config code", async () => {
    const missing = await cli("start", "--config", join(dir, "missing.yaml"));
    expect(missing.code).toBe(EXIT.CONFIG);
    expect(missing.err).toMatch(/Cannot read config file .*missing\.yaml: ENOENT/);
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "homeserver: [unclosed\n");
    const syntax = await cli("start", "--config", broken);
    expect(syntax.code).toBe(EXIT.CONFIG);
    expect(syntax.err).toContain("is not valid YAML");
  });

  it("explains an unwritable output path in one line", async () => {
    const locked = join(dir, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const targets = [join(locked, "registration.yaml"), join(dir, "no", "such", "dir", "r.yaml"), dir];
    const reasons = [
      /permission denied \(EACCES\)|operation not permitted/,
      /ENOENT/,
      /EISDIR|already exists/,
    ];
    for (const [i, output] of targets.entries()) {
      const result = await cli(
        "generate-registration",
        "--config",
        configPath,
        "--output",
        output,
        "--force",
      );
      if (process.getuid?.() === 0 && i === 0) continue; // root may write anywhere
      expect(result.code).toBe(EXIT.FAILURE);
      expect(result.err).toMatch(/^Error: Cannot write the registration to /);
      expect(result.err).toMatch(reasons[i]);
      expect(result.err).not.toContain("Unexpected error");
      expect(result.err).not.toMatch(/\n\s+at /);
    }
  });

  it("warns about an unknown MAB_ variable and still works", async () => {
    process.env.MAB_APPSERVICE_PROT = "1";
    try {
      const result = await cli(
        "generate-registration",
        "--config",
        configPath,
        "-o",
        join(dir, "w.yaml"),
        "-f",
      );
      expect(result.code).toBe(0);
      expect(result.err).toContain("MAB_APPSERVICE_PROT is not a config key");
      expect(result.err).toContain("did you mean MAB_APPSERVICE_PORT?");
    } finally {
      delete process.env.MAB_APPSERVICE_PROT;
    }
  });

  it("uses the usage code for an unknown option", async () => {
    const result = await cli("doctor", "--confgi", "x");
    expect(result.code).toBe(EXIT.USAGE);
  });

  it("maps failures to distinct exit codes", () => {
    const config = parseConfig({ homeserver: { url: "http://hs:8008", domain: "example.org" } }, {});
    expect(exitCodeFor(new ConfigError("a.b", "bad"))).toBe(EXIT.CONFIG);
    expect(exitCodeFor(explainPingFailure(new Error("connect ECONNREFUSED"), config))).toBe(
      EXIT.HOMESERVER_UNREACHABLE,
    );
    expect(
      exitCodeFor(explainPingFailure(new MatrixHttpError(502, "M_CONNECTION_FAILED", "down"), config)),
    ).toBe(EXIT.HOMESERVER_UNREACHABLE);
    for (const errcode of ["M_UNKNOWN_TOKEN", "M_FORBIDDEN", "M_BAD_STATUS"]) {
      expect(exitCodeFor(explainPingFailure(new MatrixHttpError(401, errcode, "no"), config))).toBe(
        EXIT.TOKEN_REFUSED,
      );
    }
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
  });
});
