import { validateSection, type SectionSpec, type SectionValues } from "../kit";

/** `agents.faq` in config.yaml (env: MAB_AGENTS_FAQ_<KEY>). */
export const FAQ_CONFIG_SPEC = {
  edit_power_level: {
    type: "int",
    default: 50,
    doc: "Room power level needed to add, change or delete entries (bridge admins always may)",
  },
  shortcut_enabled: {
    type: "bool",
    default: true,
    doc: "Answer `?key` messages; moderators can still turn it off per room with `!faq shortcut off`",
  },
  max_key_length: { type: "int", default: 48, min: 1, max: 200, doc: "Longest key or alias (characters)" },
  max_answer_length: {
    type: "int",
    default: 4000,
    min: 1,
    max: 20000,
    doc: "Longest answer (characters of Markdown)",
  },
  max_entries: { type: "int", default: 500, min: 1, doc: "Most entries per room (and in the global list)" },
  search_results: { type: "int", default: 5, min: 1, max: 20, doc: "How many hits `!faq search` shows" },
} satisfies SectionSpec;

export type FaqConfig = SectionValues<typeof FAQ_CONFIG_SPEC>;

/** The agent's config with defaults filled in (the core validated it already; tests pass partial ones). */
export function faqConfig(raw: Record<string, unknown> | undefined): FaqConfig {
  return validateSection(["agents", "faq"], FAQ_CONFIG_SPEC, raw ?? {});
}
