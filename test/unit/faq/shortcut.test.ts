import { faqAgent } from "../../../src/agents/faq";
import { AgentHarness } from "./agentHarness";

const ROOM = "!room:test";
const MOD = "@mod:test";
const USER = "@user:test";

describe("FAQ `?key` shortcut, as the router would deliver it (args start with ?)", () => {
  let h: AgentHarness;
  beforeAll(async () => {
    h = await AgentHarness.create(faqAgent);
    h.setPower(ROOM, MOD, 50);
    await h.say(MOD, ROOM, "set WiFi Network **office**, password `hunter2`");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("declares the prefix it wants routed", () => {
    expect(faqAgent.manifest.shortcutPrefix).toBe("?");
  });

  it("strips the ? and answers", async () => {
    expect(await h.say(USER, ROOM, "?wifi")).toBe("Network **office**, password `hunter2`");
    expect(await h.say(USER, ROOM, "?WIFI")).toBe("Network **office**, password `hunter2`");
    expect(await h.say(USER, ROOM, "  ?wi fi")).toBe("Network **office**, password `hunter2`");
    expect(await h.say(USER, ROOM, "?wifi?")).toBe("Network **office**, password `hunter2`");
  });

  it("answers an exact multi-word key, and a single-word near miss with a did-you-mean", async () => {
    expect(await h.say(USER, ROOM, "?Wi Fi")).toBe("Network **office**, password `hunter2`");
    expect(await h.say(USER, ROOM, "?wfii")).toBe(
      "Did you mean **WiFi**?\n\nNetwork **office**, password `hunter2`",
    );
  });

  it("stays silent in a group room on a miss and on chat that only starts with ?", async () => {
    for (const text of ["?lunch", "?", "??", "? anyone here", "?\nwifi", "?wfii anyone"]) {
      expect(await h.command(USER, ROOM, text)).toEqual([]);
    }
  });

  it("answers a miss in a DM, where every message is for the agent", async () => {
    expect(await h.say(USER, "!dm:test", "?lunch", { isDirect: true })).toMatch(
      /I don't know \*\*lunch\*\* yet/,
    );
  });

  it("can be turned off per room by a moderator, and on again", async () => {
    expect(await h.say(USER, ROOM, "shortcut off")).toMatch(/needs power level 50 \(yours is 0\)/);
    expect(await h.say(MOD, ROOM, "shortcut off")).toMatch(/shortcut is off in this room/);
    expect(await h.command(USER, ROOM, "?wifi")).toEqual([]);
    expect(await h.say(USER, ROOM, "shortcut")).toMatch(/is off in this room/);
    // The command form still works.
    expect(await h.say(USER, ROOM, "wifi")).toBe("Network **office**, password `hunter2`");
    expect(await h.say(MOD, ROOM, "shortcut on")).toMatch(/shortcut is on in this room/);
    expect(await h.say(USER, ROOM, "?wifi")).toBe("Network **office**, password `hunter2`");
  });

  it("obeys the bridge-wide switch (shortcut_enabled: false)", async () => {
    const off = await AgentHarness.create(faqAgent, { db: h.db, config: { shortcut_enabled: false } });
    off.setPower(ROOM, MOD, 50);
    expect(await off.command(USER, ROOM, "?wifi")).toEqual([]);
    expect(await off.say(MOD, ROOM, "shortcut on")).toMatch(/turned off for the whole bridge/);
    expect(await off.say(USER, ROOM, "wifi")).toBe("Network **office**, password `hunter2`");
  });
});
