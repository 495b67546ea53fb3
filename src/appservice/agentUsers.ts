import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { IntentProvider } from "./matrixIntents";

const log = moduleLogger("appservice/users");

export interface DesiredProfile {
  userId: string;
  displayName: string;
  avatarUrl?: string;
}

export interface SyncReport {
  ok: string[];
  changed: { userId: string; fields: string[] }[];
  failed: { userId: string; error: string }[];
}

/**
 * Makes sure the bridge bot and every agent user exist with the configured profile.
 * Idempotent: registering an existing user is fine, and only fields that differ from the
 * homeserver's current profile are sent. One user failing does not stop the others.
 */
export async function syncAgentUsers(
  intents: IntentProvider,
  users: readonly DesiredProfile[],
): Promise<SyncReport> {
  const report: SyncReport = { ok: [], changed: [], failed: [] };
  for (const user of users) {
    try {
      const intent = intents.intent(user.userId);
      await intent.ensureRegistered();
      const current = await intent
        .getProfileInfo(user.userId, undefined, false)
        .catch(() => ({}) as { displayname?: string; avatar_url?: string });
      const fields: string[] = [];
      if (current.displayname !== user.displayName) {
        await intent.setDisplayName(user.displayName);
        fields.push("displayname");
      }
      if (user.avatarUrl !== undefined && current.avatar_url !== user.avatarUrl) {
        await intent.setAvatarUrl(user.avatarUrl);
        fields.push("avatar_url");
      }
      if (fields.length) report.changed.push({ userId: user.userId, fields });
      report.ok.push(user.userId);
    } catch (err) {
      log.error({ userId: user.userId, err: errorMessage(err) }, "Could not register or update the user");
      report.failed.push({ userId: user.userId, error: errorMessage(err) });
    }
  }
  log.info(
    { ok: report.ok.length, changed: report.changed, failed: report.failed.length },
    "Agent users are registered and their profiles are in sync",
  );
  return report;
}
