import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/bridgeConfig";
import {
  buildRegistration,
  readRegistration,
  registrationProblems,
  writeRegistration,
} from "../../src/appservice/registration";

const config = parseConfig({ homeserver: { url: "http://127.0.0.1:8008", domain: "example.org" } }, {});

describe("registration", () => {
  it("has fresh random tokens, no rate limit, ephemeral events and an exclusive agent namespace", () => {
    const a = buildRegistration(config);
    const b = buildRegistration(config);
    expect(a.as_token).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hs_token).not.toBe(a.as_token);
    expect(a.as_token).not.toBe(b.as_token);
    expect(a.rate_limited).toBe(false);
    expect(a.receive_ephemeral).toBe(true);
    expect(a.sender_localpart).toBe("agentbridge");
    const [users] = a.namespaces.users!;
    expect(users.exclusive).toBe(true);
    const re = new RegExp(`^${users.regex}$`);
    for (const id of [
      "@_agent_reminders:example.org",
      "@_agent_faq:example.org",
      "@_agent_timer:example.org",
    ]) {
      expect(re.test(id)).toBe(true);
    }
    for (const id of [
      "@agentbridge:example.org",
      "@_agent_faq:example.org.evil",
      "@alice:example.org",
      "@x_agent_faq:example.org",
    ]) {
      expect(re.test(id)).toBe(false);
    }
  });

  it("round-trips through a private file and matches the config", () => {
    const dir = mkdtempSync(join(tmpdir(), "mab-reg-"));
    const path = join(dir, "registration.yaml");
    writeRegistration(path, buildRegistration(config));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toContain("receive_ephemeral: true");
    const reg = readRegistration(path);
    expect(registrationProblems(config, reg, ["@_agent_echo:example.org"])).toEqual([]);
  });

  it("lists every mismatch with the config", () => {
    const reg = buildRegistration(config);
    const other = parseConfig(
      {
        homeserver: { url: "http://h", domain: "other.org" },
        appservice: { id: "x", url: "http://1.2.3.4:1" },
      },
      {},
    );
    const problems = registrationProblems(other, { ...reg, rate_limited: true }, ["@_agent_echo:other.org"]);
    expect(problems.join("\n")).toMatch(/id 'matrix-agent-bridge' differs/);
    expect(problems.join("\n")).toMatch(/url .* differs/);
    expect(problems.join("\n")).toMatch(/outside the registration's user namespace/);
    expect(problems.join("\n")).toMatch(/rate_limited/);
  });

  it("explains a missing file", () => {
    expect(() => readRegistration("/nonexistent/registration.yaml")).toThrow(
      expect.objectContaining({
        code: "REGISTRATION_MISSING",
        hint: expect.stringMatching(/generate-registration/),
      }),
    );
  });
});
