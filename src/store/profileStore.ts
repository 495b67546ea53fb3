import type { Knex } from "knex";

export interface AgentProfile {
  userId: string;
  displayName: string | null;
  avatarUrl: string | null;
  registered: boolean;
  updatedAt: Date;
}

/** Fields to change; `undefined` keeps the stored value, `null` clears it. */
export interface AgentProfilePatch {
  displayName?: string | null;
  avatarUrl?: string | null;
  registered?: boolean;
}

interface ProfileRow {
  user_id: string;
  display_name: string | null;
  avatar_url: string | null;
  registered: boolean;
  updated_at: Date;
}

function toProfile(row: ProfileRow): AgentProfile {
  return {
    userId: row.user_id,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    registered: Boolean(row.registered),
    updatedAt: new Date(row.updated_at),
  };
}

/** What we last set on each agent's virtual user (registration, display name, avatar). */
export class ProfileStore {
  constructor(private readonly knex: Knex) {}

  async get(userId: string): Promise<AgentProfile | null> {
    const row = (await this.knex<ProfileRow>("agent_profiles").where({ user_id: userId }).first()) as
      ProfileRow | undefined;
    return row ? toProfile(row) : null;
  }

  /** Creates the profile or updates only the given fields; returns the stored profile. */
  async upsert(userId: string, patch: AgentProfilePatch): Promise<AgentProfile> {
    const changes: Record<string, unknown> = {};
    if (patch.displayName !== undefined) changes.display_name = patch.displayName;
    if (patch.avatarUrl !== undefined) changes.avatar_url = patch.avatarUrl;
    if (patch.registered !== undefined) changes.registered = patch.registered;
    const rows = (await this.knex("agent_profiles")
      .insert({ user_id: userId, ...changes })
      .onConflict("user_id")
      .merge({ ...changes, updated_at: this.knex.fn.now() })
      .returning("*")) as ProfileRow[];
    return toProfile(rows[0]);
  }
}
