/**
 * `node -r ./test/harness/tsHook.js file.ts`: runs this project's TypeScript in a plain Node
 * process (the fault tests' bridge child processes, the benchmarks) without a build step. Each
 * file is transpiled on first require (no type check: `tsc --noEmit` does that) and cached on disk
 * by content hash, so later starts cost almost nothing.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const cacheDir = path.join(os.tmpdir(), `mab-ts-cache-${process.getuid ? process.getuid() : "u"}`);
fs.mkdirSync(cacheDir, { recursive: true });
let ts;

require.extensions[".ts"] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha1").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(cacheDir, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, "utf8");
  } catch {
    ts ??= require("typescript");
    output = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        inlineSourceMap: true,
      },
    }).outputText;
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, output);
    fs.renameSync(tmp, cached);
  }
  module._compile(output, filename);
};
