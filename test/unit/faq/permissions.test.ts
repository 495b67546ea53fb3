import type { CommandContext } from "../../../src/agents/types";
import { faqConfig } from "../../../src/agents/faq/config";
import { editRefusal } from "../../../src/agents/faq/lookup";
import pino from "pino";

function ctx(level: number | Error, admin = false): CommandContext {
  return {
    roomId: "!room:test",
    sender: "@someone:test",
    log: pino({ level: "silent" }),
    rooms: {
      powerLevel: async () => {
        if (level instanceof Error) throw level;
        return level;
      },
      requiredLevel: async () => 50,
      isBridgeAdmin: () => admin,
    },
  } as unknown as CommandContext;
}

describe("FAQ edit rights", () => {
  const cfg = faqConfig({});

  it("defaults to power level 50", () => {
    expect(cfg.edit_power_level).toBe(50);
  });

  it.each([
    [0, false],
    [49, false],
    [50, true],
    [100, true],
    [Infinity, true], // room creators in v12 rooms
  ])("room entries: power %p may edit: %p", async (level, allowed) => {
    const refusal = await editRefusal(ctx(level), cfg, false);
    expect(refusal === undefined).toBe(allowed);
  });

  it("says why, with the level needed and the user's own", async () => {
    expect(await editRefusal(ctx(10), cfg, false)).toBe(
      "Sorry, editing this room's FAQ needs power level 50 (yours is 10). Ask a moderator, or a bridge admin.",
    );
  });

  it("follows the configured level", async () => {
    const strict = faqConfig({ edit_power_level: 100 });
    expect(await editRefusal(ctx(50), strict, false)).toMatch(/needs power level 100 \(yours is 50\)/);
    const open = faqConfig({ edit_power_level: 0 });
    expect(await editRefusal(ctx(0), open, false)).toBeUndefined();
  });

  it("lets bridge admins edit any room, whatever their power level", async () => {
    expect(await editRefusal(ctx(0, true), cfg, false)).toBeUndefined();
  });

  it("keeps global entries to bridge admins, even for room moderators", async () => {
    expect(await editRefusal(ctx(100), cfg, true)).toBe("Only bridge admins can change global FAQ entries.");
    expect(await editRefusal(ctx(0, true), cfg, true)).toBeUndefined();
  });

  it("refuses (rather than guessing) when the power levels cannot be read", async () => {
    expect(await editRefusal(ctx(new Error("M_FORBIDDEN")), cfg, false)).toMatch(
      /could not check your power level/,
    );
  });
});
