import { fdatasyncSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { PGlite } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";
import { seedFromTemplate } from "./pgliteTemplate";

/**
 * How the embedded PostgreSQL runs. PGlite's defaults are a server's (128 MB of shared buffers,
 * 1 GB of WAL) and `-F` (fsync off); a bridge's working set is a few MB of hot rows, and the OS
 * page cache holds the rest of the files anyway. Measured in BENCHMARKS.md ("Footprint").
 */
export const PGLITE_SETTINGS: Record<string, string> = {
  shared_buffers: "8MB",
  wal_buffers: "256kB",
  temp_buffers: "1MB",
  work_mem: "2MB",
  maintenance_work_mem: "8MB",
  min_wal_size: "32MB",
  max_wal_size: "64MB",
};

/** PGlite's start arguments without `-F` (so PostgreSQL fsyncs its WAL at commit), plus our settings. */
export function pgliteStartParams(): string[] {
  const params = PGlite.defaultStartParams.filter((p) => p !== "-F");
  for (const [key, value] of Object.entries(PGLITE_SETTINGS)) params.push("-c", `${key}=${value}`);
  return params;
}

interface EmscriptenStream {
  nfd?: number;
}
interface EmscriptenModule {
  FS: { getStream(fd: number): EmscriptenStream | null };
  NODEFS: { stream_ops: { fsync?: (stream: EmscriptenStream) => number } };
}
interface EmscriptenOpts {
  instantiateWasm?: (imports: { env: Record<string, unknown> }, done: unknown) => unknown;
  preRun?: ((mod: EmscriptenModule) => void)[];
}

/** Errors of fsync on a file descriptor that cannot be synced (a directory on some systems). */
const UNSYNCABLE = new Set(["EINVAL", "EBADF", "EISDIR", "ENOTSUP"]);

function syncFd(fd: number | undefined): number {
  if (fd === undefined) return 0;
  try {
    fdatasyncSync(fd);
  } catch (err) {
    // Anything else (EIO, ENOSPC) must not be reported as durable: PostgreSQL then stops, as it should.
    if (!UNSYNCABLE.has((err as NodeJS.ErrnoException).code ?? "")) throw err;
  }
  return 0;
}

/**
 * PGlite's Node file system with real fsync. Its WASM build answers `fdatasync()` (what PostgreSQL
 * calls on the WAL at every commit) and `fsync()` without touching the disk, so even with `-F`
 * removed a power cut could lose commits the homeserver was told were stored. This routes both to
 * the host's `fdatasync(2)` on the real file.
 */
class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Record<string, unknown>) {
    const result = (await super.init(pg, opts)) as { emscriptenOpts: EmscriptenOpts };
    const em = result.emscriptenOpts;
    let mod: EmscriptenModule | undefined;
    const instantiate = em.instantiateWasm;
    if (instantiate) {
      em.instantiateWasm = (imports, done) => {
        imports.env.__syscall_fdatasync = (fd: number) => syncFd(mod?.FS.getStream(fd)?.nfd);
        return instantiate(imports, done);
      };
    }
    em.preRun = [
      ...(em.preRun ?? []),
      (m) => {
        mod = m;
        m.NODEFS.stream_ops.fsync = (stream) => syncFd(stream.nfd);
      },
    ];
    return result as never;
  }
}

let compilerChosen = false;

/**
 * PGlite's 9 MB of WASM compiled once by V8's baseline compiler only: optimizing it as well costs
 * 30–50 MB of resident code and seconds of CPU at start (2 shared cores here), and the baseline
 * code is fast enough for a bridge's queries (measured in BENCHMARKS.md). Set before the first
 * PGlite of the process compiles; `MAB_PGLITE_OPTIMIZE=1` keeps V8's default.
 */
function chooseWasmCompiler(): void {
  if (compilerChosen) return;
  compilerChosen = true;
  if (process.env.MAB_PGLITE_OPTIMIZE === "1") return;
  setFlagsFromString("--liftoff-only");
}

/**
 * Starts PGlite in `dataDir` (a directory, created by the caller) or in memory. A new directory
 * is filled from the build-time template when there is one: unpacking it takes a fraction of a
 * second where initdb takes 2–8 s and, briefly, a second PGlite's memory.
 */
export async function startPglite(dataDir: string | undefined): Promise<PGlite> {
  chooseWasmCompiler();
  const startParams = pgliteStartParams();
  if (dataDir === undefined) return PGlite.create({ startParams });
  await seedFromTemplate(dataDir);
  return PGlite.create({ fs: new DurableNodeFS(dataDir), startParams });
}
