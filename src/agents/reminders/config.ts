import type { SectionSpec } from "../kit";

/** The `agents.reminders` config section (validated by the core; env MAB_AGENTS_REMINDERS_<KEY>). */
export const REMINDERS_CONFIG_SPEC = {
  max_active_per_user: {
    type: "int",
    default: 50,
    min: 1,
    doc: "Active (pending or recurring) reminders one user may have at a time",
  },
  max_message_length: {
    type: "int",
    default: 1000,
    min: 1,
    max: 20_000,
    doc: "Longest reminder text, in characters",
  },
  min_interval_seconds: {
    type: "int",
    default: 60,
    min: 1,
    doc: "Shortest allowed gap between two firings of a recurring reminder",
  },
  late_note_seconds: {
    type: "int",
    default: 60,
    min: 1,
    doc: "A delivery later than this (e.g. after downtime) says how late it is",
  },
} satisfies SectionSpec;

export interface RemindersConfig {
  max_active_per_user: number;
  max_message_length: number;
  min_interval_seconds: number;
  late_note_seconds: number;
}

export const DEFAULT_CONFIG: RemindersConfig = {
  max_active_per_user: 50,
  max_message_length: 1000,
  min_interval_seconds: 60,
  late_note_seconds: 60,
};

/** The validated section as the core passes it (defaults filled in), typed. */
export function remindersConfig(raw: Record<string, unknown> | undefined): RemindersConfig {
  const out = { ...DEFAULT_CONFIG };
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof RemindersConfig)[]) {
    const value = raw?.[key];
    if (typeof value === "number" && Number.isFinite(value)) out[key] = value;
  }
  return out;
}
