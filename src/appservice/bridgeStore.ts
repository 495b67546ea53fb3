import { moduleLogger } from "../logging/logger";
import type { BridgeConfig } from "../config/bridgeConfig";
import { botUserId } from "../config/bridgeConfig";
import { openDatabase, type Database } from "../store/database";
import { migrate } from "../store/migrations";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { DesiredProfile } from "./agentUsers";

const log = moduleLogger("appservice/bridgeStore");

/** Opens the configured database and applies the core's and every running agent's migrations. */
export async function openBridgeStore(
  config: BridgeConfig,
  agents: readonly ResolvedAgent[],
): Promise<Database> {
  const db = await openDatabase(config.database);
  const { applied } = await migrate(
    db,
    agents
      .filter((a) => a.definition.manifest.migrations?.length)
      .map((a) => ({ owner: a.id, migrations: a.definition.manifest.migrations! })),
  );
  if (applied.length) log.info({ applied }, "Database migrated");
  return db;
}

/** The profile every user of ours should have: the bridge bot, then each agent. */
export function wantedProfiles(config: BridgeConfig, agents: readonly ResolvedAgent[]): DesiredProfile[] {
  return [
    { userId: botUserId(config), displayName: `${config.bridge.space_name} bridge` },
    ...agents.map((a) => ({
      userId: a.userId,
      displayName: a.displayName,
      avatarUrl: a.avatarUrl,
      bundledAvatar: a.bundledAvatar,
    })),
  ];
}
