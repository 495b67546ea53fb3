/**
 * The only door from an agent into the core: agents import `../types` and this kit, nothing
 * else (a unit test checks). What the core lends agents is re-exported here, so a change in the
 * core's layout touches this file, not every agent.
 */
export { UserInputError } from "../../errors";
export { moduleLogger as agentLogger } from "../../logging/logger";
export { storableText, toJsonb, affectedRows, type Queryable } from "../../store/database";
export type { Migration } from "../../store/migrations";
export { ddlTypes } from "../../store/sqlDialect";
export { validateSection, type SectionSpec, type SectionValues } from "../../config/fields";
export { messageContent as renderedContent } from "../../queue/renderMessage";
