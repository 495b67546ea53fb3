import type { Queryable } from "./database";

/** Per-user preferences shared by all agents. Takes the caller's transaction. */
export class UserPrefs {
  constructor(private readonly db: Queryable) {}

  async timezone(userId: string): Promise<string | undefined> {
    const row = await this.db("user_prefs").where({ user_id: userId }).first("timezone");
    return row?.timezone ?? undefined;
  }

  async setTimezone(userId: string, timezone: string): Promise<void> {
    await this.db("user_prefs")
      .insert({ user_id: userId, timezone })
      .onConflict("user_id")
      .merge({ timezone, updated_at: this.db.fn.now() });
  }
}
