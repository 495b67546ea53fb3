import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The build context is what .dockerignore lets through. Docker's rules: patterns in order,
 * the last one that matches a path (or a parent folder of it) decides, `!` re-includes. This
 * matcher implements the forms the file uses.
 */
const root = join(__dirname, "..", "..");
const patterns = readFileSync(join(root, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

function toRegExp(glob: string): RegExp {
  const body = glob
    .replace(/\/$/, "")
    .split("/")
    .map((part) =>
      part === "**"
        ? "(?:.*)"
        : part
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, "[^/]*")
            .replace(/\?/g, "[^/]"),
    )
    .join("/")
    .replace(/\(\?:\.\*\)\//g, "(?:.*/)?");
  return new RegExp(`^${body}$`);
}

/** Docker's rule: a pattern matches a path when it matches the path or one of its parent folders. */
function matchesOrParent(re: RegExp, path: string): boolean {
  const parts = path.split("/");
  for (let i = 1; i <= parts.length; i++) if (re.test(parts.slice(0, i).join("/"))) return true;
  return false;
}

/** In the context: the last pattern that matches decides, `!` patterns re-include. */
function inContext(path: string): boolean {
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    if (matchesOrParent(toRegExp(negate ? raw.slice(1) : raw), path)) excluded = !negate;
  }
  return !excluded;
}

const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const copied = dockerfile
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l.startsWith("COPY ") && !l.includes("--from="))
  .flatMap((l) => l.split(/\s+/).slice(1, -1));

describe(".dockerignore", () => {
  it("lets through everything the Dockerfile copies", () => {
    expect(copied.length).toBeGreaterThan(5);
    for (const source of copied) {
      expect(existsSync(join(root, source))).toBe(true);
      expect([source, inContext(source)]).toEqual([source, true]);
    }
    expect(inContext("src/cli/index.ts")).toBe(true);
    expect(inContext("migrations/001_core.ts")).toBe(true);
  });

  it.each([
    "node_modules",
    "node_modules/knex/package.json",
    ".git",
    ".git/config",
    "dist/src/cli/index.js",
    "data/pgdata",
    "data/bridge.sqlite",
    "registration.yaml",
    "config/config.yaml",
    "config/docker/bridge/config.yaml",
    "test/harness/synapse.ts",
    "bench/run.ts",
    "scripts/demo.ts",
    "packages/crypto-unavailable/node_modules/x",
    "src/some/thing.test.ts",
    "bench/results/run.json",
  ])("keeps %s out of the build context", (path) => {
    expect(inContext(path)).toBe(false);
  });
});
