import { existsSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors";
import { moduleLogger } from "../logging/logger";
import { nodeSqliteMissing } from "./sqliteClient";
import { SQLITE_FILE } from "./sqliteEngine";

const log = moduleLogger("store/embeddedEngine");

/** `data_dir` value of an in-memory database (the same as database.ts's IN_MEMORY). */
const IN_MEMORY = ":memory:";

/** `database.engine`: which embedded database (when `database.url` is empty). */
export const ENGINES = ["auto", "sqlite", "pglite"] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * The embedded database to open. "auto": SQLite (node:sqlite: ~40 MB less memory and half the CPU of PGlite),
 * except in a data_dir that already holds a PGlite database and no SQLite one: nothing accepted
 * may be lost, so an existing installation keeps its PGlite data (said once at start). Also
 * PGlite when this Node has no usable node:sqlite.
 */
export function chooseEngine(engine: string, dataDir: string): "sqlite" | "pglite" {
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new ConfigError("database.engine", `must be one of ${ENGINES.join(", ")}, got "${engine}"`);
  }
  if (engine === "pglite") return "pglite";
  const missing = nodeSqliteMissing();
  if (engine === "auto") {
    if (dataDir !== IN_MEMORY && holdsPglite(dataDir) && !existsSync(path.resolve(dataDir, SQLITE_FILE))) {
      log.info(
        { dataDir: path.resolve(dataDir) },
        "database.data_dir holds a PGlite database (pgdata/): keeping it. New data directories use SQLite, " +
          "which needs about 40 MB less memory and half the CPU; set database.engine: pglite to silence this, or start on a " +
          "new data_dir once the outbox is empty and no reminder or timer is pending",
      );
      return "pglite";
    }
    if (missing) {
      log.warn({ missing, node: process.version }, "node:sqlite is not usable here: using PGlite");
      return "pglite";
    }
    return "sqlite";
  }
  if (missing) {
    throw new ConfigError(
      "database.engine",
      `"sqlite" needs ${missing}; this is Node ${process.version}`,
      'Run the bridge on Node 22.16 or later, or set database.engine to "pglite"',
    );
  }
  return "sqlite";
}

/** A PostgreSQL data directory (PGlite's) in `<dataDir>/pgdata`. */
function holdsPglite(dataDir: string): boolean {
  return existsSync(path.resolve(dataDir, "pgdata", "PG_VERSION"));
}
