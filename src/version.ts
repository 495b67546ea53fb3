import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

let cached: string | undefined;

/** The package version, read from package.json (found from the source tree or from dist/). */
export function bridgeVersion(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const path = join(dir, "package.json");
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "matrix-agent-bridge" && pkg.version) return (cached = pkg.version);
    }
    dir = dirname(dir);
  }
  return (cached = "unknown");
}
