import type { Knex } from "knex";
import { coreMigrations } from "../../migrations";
import { BridgeError, errorMessage } from "../errors";
import { moduleLogger } from "../logging/logger";
import type { Database } from "./database";

const log = moduleLogger("store/migrations");

/** The one knex migration table (and `<name>_lock`) shared by core and plugin migrations. */
export const MIGRATION_TABLE = "bridge_migrations";

export interface Migration {
  name: string;
  up(k: Knex): Promise<void>;
  down?(k: Knex): Promise<void>;
}

/** Migrations owned by a plugin; recorded as `<owner>/<name>`. */
export interface MigrationSet {
  owner: string;
  migrations: Migration[];
}

interface NamedMigration {
  fullName: string;
  migration: Migration;
}

const OWNER = /^[a-z0-9][a-z0-9._-]*$/;

function collect(extra: MigrationSet[]): NamedMigration[] {
  const sets: MigrationSet[] = [{ owner: "core", migrations: [...coreMigrations] }, ...extra];
  const seen = new Set<string>();
  const out: NamedMigration[] = [];
  sets.forEach((set, i) => {
    if (i > 0 && set.owner === "core") {
      throw new BridgeError("MIGRATION_INVALID", "Plugin migration sets cannot use the owner name 'core'");
    }
    if (!OWNER.test(set.owner)) {
      throw new BridgeError(
        "MIGRATION_INVALID",
        `Invalid migration owner '${set.owner}'`,
        "Use lower-case letters, digits and . _ - (no '/')",
      );
    }
    for (const migration of set.migrations) {
      const fullName = `${set.owner}/${migration.name}`;
      if (!migration.name || seen.has(fullName)) {
        throw new BridgeError("MIGRATION_INVALID", `Migration name '${fullName}' is empty or used twice`);
      }
      seen.add(fullName);
      out.push({ fullName, migration });
    }
  });
  return out;
}

class SetMigrationSource implements Knex.MigrationSource<NamedMigration> {
  constructor(private readonly all: NamedMigration[]) {}

  async getMigrations(): Promise<NamedMigration[]> {
    // knex keeps this order (it does not sort a custom source): core first, then each set in order.
    return this.all;
  }

  getMigrationName(m: NamedMigration): string {
    return m.fullName;
  }

  async getMigration(m: NamedMigration): Promise<Knex.Migration> {
    const { up, down } = m.migration;
    return {
      up: (k: Knex) => up(k),
      down: async (k: Knex) => {
        if (!down) throw new BridgeError("MIGRATION_IRREVERSIBLE", `Migration ${m.fullName} has no down()`);
        await down(k);
      },
    };
  }
}

/**
 * Brings the schema up to date: core migrations first, then each plugin set in the given order.
 * All pending migrations run in one transaction under knex's migration lock, so concurrent
 * bridges cannot apply one twice. Running it again is a no-op.
 *
 * Migrations recorded in the table but not passed in (e.g. a plugin that was removed) are
 * tolerated and only logged.
 */
export async function migrate(db: Database, extra: MigrationSet[] = []): Promise<{ applied: string[] }> {
  const all = collect(extra);
  const config: Knex.MigratorConfig = {
    tableName: MIGRATION_TABLE,
    migrationSource: new SetMigrationSource(all),
    disableMigrationsListValidation: true,
  };
  const started = Date.now();
  let applied: string[];
  try {
    const [, names] = (await db.knex.migrate.latest(config)) as [number, string[]];
    applied = names;
  } catch (err) {
    if (err instanceof BridgeError) throw err;
    const message = errorMessage(err);
    const hint = /locked/i.test(message)
      ? `Another bridge process may be migrating. If none is, clear the stale lock with: UPDATE ${MIGRATION_TABLE}_lock SET is_locked = 0`
      : "The failed migration was rolled back; fix the cause and start the bridge again";
    throw new BridgeError("MIGRATION_FAILED", `Database migration failed: ${message}`, hint, { cause: err });
  }
  const known = new Set(all.map((m) => m.fullName));
  const recorded = (await db.knex(MIGRATION_TABLE).select("name").orderBy("id")) as { name: string }[];
  const unknown = recorded.map((r) => r.name).filter((n) => !known.has(n));
  if (unknown.length > 0) {
    log.warn(
      { unknown },
      "database has migrations this bridge does not know (removed plugin or newer version?)",
    );
  }
  if (applied.length > 0) {
    log.info({ applied, ms: Date.now() - started }, `applied ${applied.length} database migration(s)`);
  } else {
    log.debug("database schema is up to date");
  }
  return { applied };
}
