import { validateSection, type SectionSpec, type SectionValues } from "../kit";

/** `agents.timer` in config.yaml (env: MAB_AGENTS_TIMER_<KEY>). */
export const TIMER_CONFIG_SPEC = {
  max_timers_per_user: {
    type: "int",
    default: 25,
    min: 1,
    max: 1000,
    doc: "Most running or paused timers one user may have",
  },
  max_duration_days: {
    type: "int",
    default: 366,
    min: 1,
    max: 3660,
    doc: "Longest timer, in days (timers survive restarts, so weeks are fine)",
  },
  max_name_length: { type: "int", default: 100, min: 1, max: 500, doc: "Longest timer name (characters)" },
  late_note_after_seconds: {
    type: "int",
    default: 60,
    min: 1,
    doc: "When a timer ends this late (the bridge was down), the message says so",
  },
} satisfies SectionSpec;

export type TimerConfig = SectionValues<typeof TIMER_CONFIG_SPEC>;

export function timerConfig(raw: Record<string, unknown> | undefined): TimerConfig {
  return validateSection(["agents", "timer"], TIMER_CONFIG_SPEC, raw ?? {});
}
