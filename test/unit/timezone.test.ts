import { createWorld, body, T0, type World } from "./reminders/world";
import { ReminderStore } from "../../src/agents/reminders/store";
import { parseConfig } from "../../src/config/bridgeConfig";

const ALICE = "@alice:example.org";
const DM = "!dm-alice:example.org";
const ROOM = "!team:example.org";

describe("one tz behaviour for every agent (the core's)", () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld({}, { withTimer: true });
  });
  afterAll(async () => {
    await w.close();
  });
  beforeEach(async () => {
    await w.reset();
  });

  it("answers the same way whichever agent is asked", async () => {
    const [fromReminders] = await w.say(ALICE, DM, "tz", { isDirect: true });
    const [fromTimer] = await w.say(ALICE, ROOM, "tz", { agent: "timer" });
    expect(body(fromReminders)).toBe(
      "Your timezone is **UTC** (it is 12:00 there now). Change it with `tz <Area/City>`, e.g. `tz Europe/Berlin` or `tz America/New_York`.",
    );
    expect(body(fromTimer)).toBe(
      "Your timezone is **UTC** (it is 12:00 there now). Change it with `!timer tz <Area/City>`, e.g. `!timer tz Europe/Berlin` or `!timer tz America/New_York`.",
    );
  });

  it("validates with the IANA database and stores the canonical name", async () => {
    const [bad] = await w.say(ALICE, ROOM, "tz Europe/Berln", { agent: "timer" });
    expect(body(bad)).toMatch(
      /^“Europe\/Berln” is not a timezone I know\. Use an IANA name such as `Europe\/Berlin`/,
    );
    const [offset] = await w.say(ALICE, ROOM, "tz +02:00", { agent: "timer" });
    expect(body(offset)).toMatch(/is not a timezone I know/);
    const [long] = await w.say(ALICE, ROOM, `tz ${"a/".repeat(5000)}`, { agent: "timer" });
    expect(body(long).length).toBeLessThan(400);
    const [ok] = await w.say(ALICE, ROOM, "tz europe/berlin", { agent: "timer" });
    expect(body(ok)).toBe(
      "Your timezone is now **Europe/Berlin** (it is 13:00 there, Mon 2 Mar 2026, 13:00); every agent uses it.",
    );
    expect(await w.db.knex("user_prefs").where({ user_id: ALICE }).first("timezone")).toEqual({
      timezone: "Europe/Berlin",
    });
  });

  it("moves recurring reminders when the zone is set through the Timer agent (agents told by a hook)", async () => {
    const [set] = await w.say(ALICE, DM, "every day at 9:00 standup", { isDirect: true });
    const id = /Id `([0-9a-z]{5})`/.exec(body(set))![1];
    const [reply] = await w.say(ALICE, ROOM, "tz Asia/Tokyo", { agent: "timer" });
    expect(body(reply)).toMatch(/every agent uses it\. 1 recurring reminder now follows it\.$/);
    const r = (await new ReminderStore(w.db.knex).get(id))!;
    expect(r.recurrence).toMatchObject({ zone: "Asia/Tokyo", expr: "0 9 * * *" });
    expect(r.nextDueAt!.toISOString()).toBe("2026-03-03T00:00:00.000Z"); // 09:00 JST
    const item = await w.schedules.get(w.db.knex, r.itemId!);
    expect(item!.dueAt).toEqual(r.nextDueAt);
  });

  it("moves an every-other-week reminder keeping its weekday", async () => {
    // Mon 2 Mar 12:00 UTC; "every other friday at 9" → Fri 6 Mar 09:00 UTC.
    const [set] = await w.say(ALICE, DM, "every other friday at 9 review", { isDirect: true });
    const id = /Id `([0-9a-z]{5})`/.exec(body(set))![1];
    await w.say(ALICE, DM, "tz America/New_York", { isDirect: true });
    const r = (await new ReminderStore(w.db.knex).get(id))!;
    expect(r.nextDueAt!.toISOString()).toBe("2026-03-06T14:00:00.000Z"); // Fri 09:00 EST
    expect(w.now).toEqual(T0);
  });

  it("refuses a misspelt bridge.default_timezone at start-up, naming the key", () => {
    const config = (zone: string, env: NodeJS.ProcessEnv = {}) =>
      parseConfig(
        { homeserver: { url: "http://127.0.0.1:1", domain: "x" }, bridge: { default_timezone: zone } },
        env,
      );
    expect(() => config("Europe/Berln")).toThrow(
      /^Config key 'bridge.default_timezone': "Europe\/Berln" is not a timezone in the IANA database$/,
    );
    expect(() => config("UTC", { MAB_BRIDGE_DEFAULT_TIMEZONE: "Mars/Base" })).toThrow(
      /"Mars\/Base" \(from MAB_BRIDGE_DEFAULT_TIMEZONE\) is not a timezone/,
    );
    expect(config("europe/berlin").bridge.default_timezone).toBe("Europe/Berlin");
  });
});
