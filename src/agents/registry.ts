import type { AgentDefinition } from "./types";
import { echoAgent } from "./echo";
import { remindersAgent } from "./reminders";
import { faqAgent } from "./faq";
import { timerAgent } from "./timer";

/**
 * Every agent the bridge knows. Adding an agent = adding its folder and one line here.
 * Order matters only for !help listings.
 */
export const AGENT_DEFINITIONS: readonly AgentDefinition[] = [
  echoAgent,
  remindersAgent,
  faqAgent,
  timerAgent,
];
