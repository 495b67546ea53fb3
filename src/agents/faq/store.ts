import { affectedRows, storableText, type Queryable } from "../kit";

/** The scope of entries every room sees (room ids start with "!", so it cannot clash). */
export const GLOBAL = "*";

export interface Entry {
  scope: string;
  key: string;
  displayKey: string;
  answer: string;
  version: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface Alias {
  scope: string;
  alias: string;
  displayAlias: string;
  target: string;
}

export type HistoryAction = "set" | "delete" | "revert" | "import" | "alias" | "unalias";

export interface HistoryRow {
  n: number;
  action: HistoryAction;
  displayKey: string;
  answer: string | null;
  note: string | null;
  actor: string;
  at: Date;
}

interface EntryRow {
  scope: string;
  key: string;
  display_key: string;
  answer: string;
  version: number | string;
  updated_by: string;
  updated_at: Date | string;
}

function toEntry(r: EntryRow): Entry {
  return {
    scope: r.scope,
    key: r.key,
    displayKey: r.display_key,
    answer: r.answer,
    version: Number(r.version),
    updatedBy: r.updated_by,
    updatedAt: new Date(r.updated_at),
  };
}

function toAlias(r: { scope: string; alias: string; display_alias: string; target: string }): Alias {
  return { scope: r.scope, alias: r.alias, displayAlias: r.display_alias, target: r.target };
}

/**
 * The FAQ tables. Every method runs on the handle it was given, which in the agent is the
 * event's transaction: an entry, its history row and the reply commit together.
 */
export class FaqStore {
  constructor(private readonly db: Queryable) {}

  async entry(scope: string, key: string): Promise<Entry | undefined> {
    const row = await this.db("faq_entries").where({ scope, key }).first();
    return row ? toEntry(row as EntryRow) : undefined;
  }

  async entries(scope: string): Promise<Entry[]> {
    const rows = (await this.db("faq_entries").where({ scope }).orderBy("key")) as EntryRow[];
    return rows.map(toEntry);
  }

  async count(scope: string): Promise<number> {
    const row = await this.db("faq_entries").where({ scope }).count({ n: "*" }).first();
    return Number(row?.n ?? 0);
  }

  async alias(scope: string, alias: string): Promise<Alias | undefined> {
    const row = await this.db("faq_aliases").where({ scope, alias }).first();
    return row ? toAlias(row) : undefined;
  }

  async aliases(scope: string): Promise<Alias[]> {
    return (await this.db("faq_aliases").where({ scope }).orderBy("alias")).map(toAlias);
  }

  /** Saves an answer (new or changed) and records it as change n; returns n and whether it is new. */
  async put(
    scope: string,
    key: string,
    shownKey: string,
    answer: string,
    actor: string,
    at: Date,
    action: "set" | "revert" | "import" = "set",
    note?: string,
  ): Promise<{ n: number; created: boolean }> {
    const n = await this.record(scope, key, { action, displayKey: shownKey, answer, note, actor, at });
    const existing = await this.entry(scope, key);
    const values = {
      display_key: storableText(shownKey),
      answer: storableText(answer),
      version: n,
      updated_by: actor,
      updated_at: at,
    };
    await this.db("faq_entries")
      .insert({ scope, key, ...values })
      .onConflict(["scope", "key"])
      .merge(values);
    return { n, created: !existing };
  }

  /** Deletes an entry and the aliases of it in the same scope; false when there was none. */
  async remove(
    scope: string,
    key: string,
    actor: string,
    at: Date,
  ): Promise<{ deleted: boolean; aliases: string[] }> {
    const existing = await this.entry(scope, key);
    if (!existing) return { deleted: false, aliases: [] };
    await this.record(scope, key, {
      action: "delete",
      displayKey: existing.displayKey,
      answer: null,
      actor,
      at,
    });
    await this.db("faq_entries").where({ scope, key }).del();
    const aliases = (await this.db("faq_aliases").where({ scope, target: key })).map(toAlias);
    for (const a of aliases) await this.removeAlias(scope, a.alias, actor, at);
    return { deleted: true, aliases: aliases.map((a) => a.displayAlias) };
  }

  async putAlias(
    scope: string,
    alias: string,
    shownAlias: string,
    target: string,
    actor: string,
    at: Date,
  ): Promise<void> {
    await this.record(scope, alias, {
      action: "alias",
      displayKey: shownAlias,
      answer: null,
      note: target,
      actor,
      at,
    });
    const values = { display_alias: storableText(shownAlias), target, created_by: actor, created_at: at };
    await this.db("faq_aliases")
      .insert({ scope, alias, ...values })
      .onConflict(["scope", "alias"])
      .merge(values);
  }

  async removeAlias(scope: string, alias: string, actor: string, at: Date): Promise<boolean> {
    const existing = await this.alias(scope, alias);
    if (!existing) return false;
    await this.record(scope, alias, {
      action: "unalias",
      displayKey: existing.displayAlias,
      answer: null,
      note: existing.target,
      actor,
      at,
    });
    return affectedRows(await this.db("faq_aliases").where({ scope, alias }).del()) > 0;
  }

  async history(scope: string, key: string): Promise<HistoryRow[]> {
    const rows = await this.db("faq_history").where({ scope, key }).orderBy("n");
    return rows.map((r) => ({
      n: Number(r.n),
      action: r.action as HistoryAction,
      displayKey: r.display_key,
      answer: r.answer,
      note: r.note,
      actor: r.actor,
      at: new Date(r.at),
    }));
  }

  /** The room's own shortcut setting, or undefined when the room never changed it. */
  async shortcut(roomId: string): Promise<boolean | undefined> {
    const row = await this.db("faq_room_settings").where({ room_id: roomId }).first();
    return typeof row?.shortcut_enabled === "boolean" ? row.shortcut_enabled : undefined;
  }

  async setShortcut(roomId: string, enabled: boolean, actor: string, at: Date): Promise<void> {
    const values = { shortcut_enabled: enabled, updated_by: actor, updated_at: at };
    await this.db("faq_room_settings")
      .insert({ room_id: roomId, ...values })
      .onConflict("room_id")
      .merge(values);
  }

  /**
   * Moves a room's entries, aliases, history and settings to its successor (room upgrade).
   * Anything the new room already has for a key wins; idempotent when the tombstone repeats.
   */
  async moveRoom(oldRoom: string, newRoom: string): Promise<{ entries: number }> {
    const db = this.db;
    const move = async (table: string, column: string) =>
      affectedRows(
        await db(table)
          .where({ scope: oldRoom })
          .whereNotIn(column, db(table).select(column).where({ scope: newRoom }))
          .update({ scope: newRoom }),
      );
    const entries = await move("faq_entries", "key");
    await move("faq_aliases", "alias");
    await move("faq_history", "key");
    const settings = await db("faq_room_settings").where({ room_id: oldRoom }).first();
    if (settings) {
      await db("faq_room_settings")
        .insert({ ...settings, room_id: newRoom })
        .onConflict("room_id")
        .ignore();
    }
    return { entries };
  }

  /** Appends a history row for a key; returns its number n. */
  private async record(
    scope: string,
    key: string,
    row: Omit<HistoryRow, "n" | "note"> & { note?: string | null },
  ): Promise<number> {
    const last = await this.db("faq_history").where({ scope, key }).max({ n: "n" }).first();
    const n = Number(last?.n ?? 0) + 1;
    await this.db("faq_history").insert({
      scope,
      key,
      n,
      action: row.action,
      display_key: storableText(row.displayKey),
      answer: row.answer === null ? null : storableText(row.answer),
      note: row.note ?? null,
      actor: row.actor,
      at: row.at,
    });
    return n;
  }
}
