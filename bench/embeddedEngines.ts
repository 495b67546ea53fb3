/**
 * The embedded engines side by side (docs/adr/0001-embedded-database.md): resident memory of a
 * bare Node process after opening the engine and after 200 transactions of 100 rows, and the
 * time those took. One engine per process (memory is per process):
 *   node --expose-gc dist/bench/embeddedEngines.js pglite|sqlite
 * Prints one JSON line. `node:sqlite` runs in WAL mode with synchronous=FULL (fsync at commit),
 * PGlite as the bridge runs it (src/store/pgliteEngine.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPglite } from "../src/store/pgliteEngine";

const rssMB = () =>
  Math.round((Number(readFileSync("/proc/self/statm", "utf8").split(" ")[1]) * 4096) / 1048576);

async function main(): Promise<void> {
  const engine = process.argv[2] ?? "pglite";
  const dir = mkdtempSync(join(tmpdir(), "mab-engines-"));
  const base = rssMB();
  const t0 = performance.now();
  let batch: (i: number) => Promise<void>;
  let close: () => Promise<void>;
  if (engine === "sqlite") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:sqlite is experimental; load it only here
    const { DatabaseSync } = require("node:sqlite") as typeof import("node:sqlite");
    const db = new DatabaseSync(join(dir, "bench.db"));
    db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id text PRIMARY KEY, body text, n int)",
    );
    const insert = db.prepare("INSERT INTO t VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    batch = async (i) => {
      db.exec("BEGIN");
      for (let j = 0; j < 100; j++) insert.run(`${i}-${j}`, "x".repeat(300), j);
      db.exec("COMMIT");
    };
    close = async () => db.close();
  } else {
    mkdirSync(join(dir, "pgdata"));
    const pg = await startPglite(join(dir, "pgdata"));
    await pg.exec("CREATE TABLE t (id text PRIMARY KEY, body text, n int)");
    batch = async (i) => {
      const params: unknown[] = [];
      const rows: string[] = [];
      for (let j = 0; j < 100; j++) {
        rows.push(`($${j * 3 + 1}, $${j * 3 + 2}, $${j * 3 + 3})`);
        params.push(`${i}-${j}`, "x".repeat(300), j);
      }
      await pg.query(`INSERT INTO t VALUES ${rows.join(", ")} ON CONFLICT DO NOTHING`, params);
    };
    close = () => pg.close();
  }
  const opened = rssMB();
  const t1 = performance.now();
  for (let i = 0; i < 200; i++) await batch(i);
  const t2 = performance.now();
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 300));
  const result = {
    engine,
    openMs: Math.round(t1 - t0),
    rssMB: { node: base, afterOpen: opened, after20kRows: rssMB() },
    insert20kRowsMs: Math.round(t2 - t1),
  };
  await close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
