import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The image cannot be built here (no Docker engine), so we check what can go wrong
 * silently: every path it copies from the repository exists, and it runs the CLI's start.
 */
const root = join(__dirname, "..", "..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const instructions = dockerfile
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

describe("Dockerfile", () => {
  it("is multi-stage on a Node 22 slim base", () => {
    const froms = instructions.filter((l) => l.startsWith("FROM "));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:22[-.\w]*slim/);
  });

  it("copies only paths that exist in the repository", () => {
    const copies = instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from="));
    expect(copies.length).toBeGreaterThan(3);
    for (const copy of copies) {
      const parts = copy.split(/\s+/).slice(1);
      const sources = parts.slice(0, -1);
      for (const source of sources) {
        expect([source, existsSync(join(root, source))]).toEqual([source, true]);
      }
    }
  });

  it("builds with the scripts package.json defines", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    for (const match of dockerfile.matchAll(/npm run (\w[\w:-]*)/g)) {
      expect(pkg.scripts[match[1]]).toBeDefined();
    }
  });

  it("runs as a non-root user and starts the bridge through the CLI", () => {
    const user = instructions.filter((l) => l.startsWith("USER ")).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)\b/);
    const entrypoint = JSON.parse(
      instructions.find((l) => l.startsWith("ENTRYPOINT "))!.slice("ENTRYPOINT ".length),
    );
    const cmd = JSON.parse(instructions.find((l) => l.startsWith("CMD "))!.slice("CMD ".length));
    expect(entrypoint).toEqual(["node", "bin/matrix-agent-bridge.js"]);
    expect(cmd[0]).toBe("start");
    expect(existsSync(join(root, entrypoint[1]))).toBe(true);
  });

  it("checks health on /ready with a script that exists", () => {
    const health = instructions.find((l) => l.startsWith("HEALTHCHECK "));
    expect(health).toBeDefined();
    const cmd = JSON.parse(health!.slice(health!.indexOf("CMD ") + 4)) as string[];
    expect(cmd[0]).toBe("node");
    const script = readFileSync(join(root, cmd[1]), "utf8");
    expect(script).toContain("/ready");
  });

  it("keeps the registration and the embedded database in the /data volume", () => {
    expect(dockerfile).toMatch(/MAB_DATABASE_DATA_DIR=\/data\b/);
    expect(dockerfile).toMatch(/MAB_APPSERVICE_REGISTRATION=\/data\/registration\.yaml/);
    expect(instructions).toContain('VOLUME ["/data"]');
  });

  it("ships no test harness, benchmarks or demo", () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    const fromBuild = [...final.matchAll(/COPY --from=build (\S+)/g)].map((m) => m[1]);
    expect(fromBuild).not.toContain("/app/dist");
    for (const path of fromBuild) expect(path).not.toMatch(/test|bench|scripts/);
    expect(dockerfile).not.toMatch(/COPY (test|bench|scripts)/);
  });
});
