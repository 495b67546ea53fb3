/**
 * Part of `npm run build`: the embedded database's template (dist/pglite-template.tar.gz), a data
 * directory with initdb and the core migrations done, shut down cleanly (so a start from it needs
 * no crash recovery). A bridge that starts on a new data directory unpacks it instead of running
 * initdb (2–8 s and a second PGlite's memory on 2 shared cores). Agents' own migrations still run
 * at start, as do core migrations newer than the template.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { gzipSync } from "node:zlib";
import { configureLogging } from "../src/logging/logger";
import { openDatabase } from "../src/store/database";
import { migrate } from "../src/store/migrations";
import { pgliteVersion, TEMPLATE_FILE } from "../src/store/pgliteTemplate";

function header(name: string, size: number, type: "0" | "5"): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`path too long for the template: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, "utf8");
  h.write(`${(type === "5" ? 0o700 : 0o600).toString(8).padStart(7, "0")}\0`, 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write(`${"0".padStart(11, "0")}\0`, 136);
  h.write("        ", 148);
  h.write(type, 156);
  h.write("ustar\x0000", 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

/** A ustar archive of `dir` (directories and regular files only), paths relative to it. */
function tarDir(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel)).sort()) {
      const relPath = rel ? posix.join(rel, entry) : entry;
      const full = join(dir, relPath);
      const st = statSync(full);
      if (st.isDirectory()) {
        parts.push(header(`${relPath}/`, 0, "5"));
        walk(relPath);
      } else if (st.isFile()) {
        const body = readFileSync(full);
        parts.push(header(relPath, body.length, "0"), body, Buffer.alloc((512 - (body.length % 512)) % 512));
      }
    }
  };
  walk("");
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Builds the template into `file` (with its `.json` beside it); returns the file. */
export async function buildTemplate(file = TEMPLATE_FILE): Promise<string> {
  // A stale template must not seed the new one.
  rmSync(file, { force: true });
  rmSync(`${file}.json`, { force: true });
  const dir = mkdtempSync(join(tmpdir(), "mab-template-"));
  try {
    const db = await openDatabase({ data_dir: dir, engine: "pglite" });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    writeFileSync(file, gzipSync(tarDir(join(dir, "pgdata"))));
    const info = { pglite: pgliteVersion(), builtAt: new Date().toISOString() };
    writeFileSync(`${file}.json`, `${JSON.stringify(info)}\n`);
    return file;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  configureLogging({ level: "warn", format: "json" });
  buildTemplate().then(
    (file) => process.stdout.write(`embedded database template: ${file}\n`),
    // The bridge works without the template (it runs initdb instead): never fail the build for it.
    (err) => process.stderr.write(`embedded database template not built: ${(err as Error)?.stack ?? err}\n`),
  );
}
