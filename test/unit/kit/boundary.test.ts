import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Agents import only `src/agents/types.ts` and the agent kit from the core (plus their own
 * files and npm packages), and none carries its own time or zone parsing.
 */
const AGENTS = join(__dirname, "..", "..", "..", "src", "agents");
const CORE_FILES = new Set(["types.ts", "registry.ts", "agentConfig.ts"]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const agentFiles = files(AGENTS).filter((f) => {
  const rel = relative(AGENTS, f);
  return !rel.startsWith("kit") && !CORE_FILES.has(rel);
});

describe("the agent boundary", () => {
  it("finds the agents", () => {
    expect(agentFiles.map((f) => relative(AGENTS, f).split("/")[0])).toEqual(
      expect.arrayContaining(["reminders", "timer", "faq", "echo"]),
    );
  });

  it.each(agentFiles.map((f) => [relative(AGENTS, f), f]))(
    "%s imports only types, the kit and its own files",
    (_rel, file) => {
      const source = readFileSync(file, "utf8");
      for (const m of source.matchAll(/from "(\.[^"]+)"/g)) {
        const target = m[1];
        const ok = target === "../types" || target === "../kit" || target.startsWith("./");
        expect([target, ok]).toEqual([target, true]);
      }
    },
  );

  it.each(agentFiles.map((f) => [relative(AGENTS, f), f]))(
    "%s does no time or zone parsing of its own",
    (_rel, file) => {
      const source = readFileSync(file, "utf8");
      for (const lib of ["chrono-node", "luxon", "croner"])
        expect([lib, source.includes(`from "${lib}"`)]).toEqual([lib, false]);
      expect(source).not.toMatch(/IANAZone|Intl\.DateTimeFormat|resolvedOptions\(\)\.timeZone/);
    },
  );
});
