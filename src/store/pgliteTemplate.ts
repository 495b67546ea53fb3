import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { moduleLogger } from "../logging/logger";

const log = moduleLogger("store/pgliteTemplate");

/**
 * A pre-built embedded data directory (initdb and the core migrations done by `npm run build`,
 * scripts/buildDbTemplate.ts) as PGlite's own gzipped tar dump, next to dist/src.
 */
export const TEMPLATE_FILE = path.resolve(__dirname, "..", "..", "pglite-template.tar.gz");

/** The installed PGlite's version (its package.json is not in its exports: found from its entry). */
export function pgliteVersion(): string {
  let dir = path.dirname(require.resolve("@electric-sql/pglite"));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      const info = JSON.parse(readFileSync(pkg, "utf8")) as { name?: string; version: string };
      if (info.name === "@electric-sql/pglite") return info.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

function field(buf: Buffer, start: number, length: number): string {
  const raw = buf.toString("utf8", start, start + length);
  const nul = raw.indexOf("\0");
  return nul < 0 ? raw : raw.slice(0, nul);
}

/**
 * Writes the entries of a ustar archive (regular files and directories, what the template holds)
 * under `dir`. Anything else, or a path leaving `dir`, throws: the caller then runs initdb.
 */
async function untar(tar: Buffer, dir: string): Promise<number> {
  const root = path.resolve(dir);
  const files: { target: string; body: Buffer }[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const name = field(tar, offset, 100);
    if (!name) break; // the two zero blocks that end the archive
    const prefix = field(tar, offset + 345, 155);
    const size = parseInt(field(tar, offset + 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(tar[offset + 156] || 48);
    const target = path.resolve(root, `.${path.posix.sep}${prefix ? `${prefix}/` : ""}${name}`);
    if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`unsafe path ${name}`);
    const body = offset + 512;
    if (type === "5") mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (type === "0") {
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      files.push({ target, body: tar.subarray(body, body + size) });
    } else throw new Error(`unexpected tar entry type '${type}' for ${name}`);
    offset = body + Math.ceil(size / 512) * 512;
  }
  // Synchronously: here ~1,000 small files take about 0.1 s this way, and several times that as
  // promises through libuv's thread pool on a busy machine.
  for (const f of files) writeFileSync(f.target, f.body, { mode: 0o600 });
  return files.length;
}

/**
 * Fills an empty data directory from the template made by this PGlite version; false (and the
 * directory left empty for initdb) when there is none, it is stale, or it cannot be unpacked.
 */
export async function seedFromTemplate(dataDir: string, file = TEMPLATE_FILE): Promise<boolean> {
  const meta = `${file}.json`;
  if (!existsSync(file) || !existsSync(meta)) return false;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false;
  const started = Date.now();
  try {
    const info = JSON.parse(readFileSync(meta, "utf8")) as { pglite?: string };
    if (info.pglite !== pgliteVersion()) {
      log.debug({ template: info.pglite, pglite: pgliteVersion() }, "embedded database template is stale");
      return false;
    }
    const files = await untar(gunzipSync(readFileSync(file)), dataDir);
    log.debug({ dataDir, files, ms: Date.now() - started }, "new embedded database from the template");
    return true;
  } catch (err) {
    log.warn({ err: String(err), dataDir }, "embedded database template not usable; running initdb");
    for (const entry of existsSync(dataDir) ? readdirSync(dataDir) : []) {
      rmSync(path.join(dataDir, entry), { recursive: true, force: true });
    }
    return false;
  }
}
