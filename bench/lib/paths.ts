import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The repository root (the directory of this project's package.json), from source or from dist/. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "matrix-agent-bridge") return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the repository root above ${from}`);
    dir = parent;
  }
}

/** A compiled benchmark module (dist/bench/<name>.js); the benchmarks spawn these as processes. */
export function compiledBench(name: string): string {
  const file = join(repoRoot(), "dist", "bench", `${name}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return file;
}
