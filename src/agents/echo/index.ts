import type { AgentDefinition, CommandContext } from "../types";

/**
 * The smallest possible agent: it proves the whole path (invite, DM, command routing,
 * durable reply) without any state of its own. Useful for checking a deployment.
 */
const HELP = [
  "I repeat what you say, to check that the bridge works.",
  "",
  "- In a DM: just write, and I answer with the same text.",
  "- In a room: `!echo <text>`",
  "- `help` shows this message.",
].join("\n");

export const echoAgent: AgentDefinition = {
  manifest: {
    id: "echo",
    displayName: "Echo",
    avatarFile: "echo.png",
    command: "echo",
    summary: "Repeats what you say: a quick check that the bridge works.",
    help: HELP,
    // A diagnostic: enable it with agents.echo.enabled (the end-to-end tests do).
    enabledByDefault: false,
  },
  create: () => ({
    manifest: echoAgent.manifest,
    async onCommand(ctx: CommandContext) {
      if (ctx.args === "" || /^help$/i.test(ctx.args)) {
        await ctx.reply(HELP);
        return;
      }
      await ctx.reply({ markdown: ctx.args });
    },
  }),
};
