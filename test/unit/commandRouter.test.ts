import { routeMessage, messageText } from "../../src/appservice/commandRouter";
import { parseConfig } from "../../src/config/bridgeConfig";
import { resolveAgents } from "../../src/agents/agentConfig";
import type { AgentDefinition, MatrixEvent } from "../../src/agents/types";

const def = (id: string, command: string): AgentDefinition => ({
  manifest: {
    id,
    displayName: id[0].toUpperCase() + id.slice(1),
    command,
    summary: "s",
    help: "h",
    enabledByDefault: true,
  },
  create: () => ({ manifest: def(id, command).manifest, onCommand: async () => undefined }),
});
const config = parseConfig({ homeserver: { url: "http://h", domain: "example.org" } }, {});
const agents = resolveAgents(config, [def("reminders", "remind"), def("faq", "faq")], {});

function msg(body: string, extra: Record<string, unknown> = {}): MatrixEvent {
  return {
    event_id: "$e",
    room_id: "!r:example.org",
    type: "m.room.message",
    sender: "@alice:example.org",
    content: { msgtype: "m.text", body, ...extra },
  };
}
const everyoneJoined = { isJoined: async () => true };
const nobodyJoined = { isJoined: async () => false };

describe("command routing", () => {
  it("sends everything in a DM to that agent, with or without the command word", async () => {
    const room = { ...everyoneJoined, dmAgentId: "reminders" };
    expect(await routeMessage(msg("in 10 minutes stretch"), agents, room)).toMatchObject({
      kind: "agent",
      agent: { id: "reminders" },
      args: "in 10 minutes stretch",
      isDirect: true,
    });
    expect(await routeMessage(msg("!remind list"), agents, room)).toMatchObject({
      args: "list",
      isDirect: true,
    });
  });

  it("routes group messages by command word only to agents in the room", async () => {
    expect(await routeMessage(msg("!faq wifi"), agents, everyoneJoined)).toMatchObject({
      agent: { id: "faq" },
      args: "wifi",
      isDirect: false,
    });
    expect(await routeMessage(msg("!FAQ wifi"), agents, everyoneJoined)).toMatchObject({
      agent: { id: "faq" },
    });
    expect(await routeMessage(msg("!faq wifi"), agents, nobodyJoined)).toEqual({ kind: "none" });
    expect(await routeMessage(msg("!unknown x"), agents, everyoneJoined)).toEqual({ kind: "none" });
    expect(await routeMessage(msg("just chatting"), agents, everyoneJoined)).toEqual({ kind: "none" });
    expect(await routeMessage(msg("!faqs x"), agents, everyoneJoined)).toEqual({ kind: "none" });
  });

  it("routes an agent's shortcut prefix (?key) with the whole text", async () => {
    const withShortcut = resolveAgents(
      config,
      [{ ...def("faq", "faq"), manifest: { ...def("faq", "faq").manifest, shortcutPrefix: "?" } }],
      {},
    );
    expect(await routeMessage(msg("?wifi"), withShortcut, everyoneJoined)).toMatchObject({
      agent: { id: "faq" },
      args: "?wifi",
      shortcut: true,
    });
    expect(await routeMessage(msg("? anyone"), withShortcut, everyoneJoined)).toEqual({ kind: "none" });
    expect(await routeMessage(msg("?wifi"), withShortcut, nobodyJoined)).toEqual({ kind: "none" });
    expect(await routeMessage(msg("?wifi"), agents, everyoneJoined)).toEqual({ kind: "none" });
  });

  it("answers !help", async () => {
    expect(await routeMessage(msg("!help"), agents, everyoneJoined)).toEqual({ kind: "help" });
  });

  it("routes mentions by m.mentions or by name prefix", async () => {
    const byPill = msg("Reminders: list", { "m.mentions": { user_ids: ["@_agent_reminders:example.org"] } });
    expect(await routeMessage(byPill, agents, everyoneJoined)).toMatchObject({
      agent: { id: "reminders" },
      args: "list",
    });
    expect(await routeMessage(msg("@_agent_faq:example.org wifi"), agents, everyoneJoined)).toMatchObject({
      agent: { id: "faq" },
      args: "wifi",
    });
    expect(await routeMessage(msg("faqulous"), agents, everyoneJoined)).toEqual({ kind: "none" });
  });

  it("reads an edit as its new content (the host decides if it corrects a command)", () => {
    const edit = msg("* !faq x", {
      "m.relates_to": { rel_type: "m.replace", event_id: "$o" },
      "m.new_content": { msgtype: "m.text", body: "!faq y" },
    });
    expect(messageText(edit)).toBe("!faq y");
    const broken = msg("* !faq x", { "m.relates_to": { rel_type: "m.replace", event_id: "$o" } });
    expect(messageText(broken)).toBeUndefined();
  });

  it("ignores notices and non-text messages", async () => {
    expect(messageText(msg("!faq x", { msgtype: "m.notice" }))).toBeUndefined();
    expect(messageText({ ...msg("x"), type: "m.reaction" })).toBeUndefined();
  });

  it("strips the reply fallback of old clients", () => {
    expect(messageText(msg("> <@bob:example.org> hello\n\n!faq wifi"))).toBe("!faq wifi");
  });
});
