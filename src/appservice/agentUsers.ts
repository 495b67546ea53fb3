import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { ProfileStore } from "../store/profileStore";
import type { IntentProvider } from "./matrixIntents";

const log = moduleLogger("appservice/users");

export interface DesiredProfile {
  userId: string;
  displayName: string;
  avatarUrl?: string;
  /** A bundled image to upload (once) and use when `avatarUrl` is not set. */
  bundledAvatar?: string;
}

/**
 * The mxc:// URI of a bundled image: uploaded the first time, then remembered in agent_profiles
 * under its content hash (`media:sha256:<hex>`), so a restart re-uses it and a changed image is
 * uploaded again. Undefined (and logged) when the upload fails: the agent just has no avatar.
 */
export async function bundledAvatarUrl(
  intents: IntentProvider,
  knex: Knex,
  userId: string,
  file: string,
): Promise<string | undefined> {
  try {
    const data = readFileSync(file);
    const key = `media:sha256:${createHash("sha256").update(data).digest("hex")}`;
    const store = new ProfileStore(knex);
    const known = (await store.get(key))?.avatarUrl;
    if (known) return known;
    const mxc = await intents.intent(userId).uploadContent(data, { name: basename(file), type: "image/png" });
    await store.upsert(key, { avatarUrl: mxc });
    log.info({ userId, file: basename(file), mxc }, "Uploaded the bundled avatar");
    return mxc;
  } catch (err) {
    log.warn({ userId, file, err: errorMessage(err) }, "Could not upload the bundled avatar; going without");
    return undefined;
  }
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
  knex?: Knex,
): Promise<SyncReport> {
  const report: SyncReport = { ok: [], changed: [], failed: [] };
  for (const desired of users) {
    try {
      const intent = intents.intent(desired.userId);
      await intent.ensureRegistered();
      const user = { ...desired };
      if (user.avatarUrl === undefined && user.bundledAvatar && knex) {
        user.avatarUrl = await bundledAvatarUrl(intents, knex, user.userId, user.bundledAvatar);
      }
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
      log.error({ userId: desired.userId, err: errorMessage(err) }, "Could not register or update the user");
      report.failed.push({ userId: desired.userId, error: errorMessage(err) });
    }
  }
  log.info(
    { ok: report.ok.length, changed: report.changed, failed: report.failed.length },
    "Agent users are registered and their profiles are in sync",
  );
  return report;
}
