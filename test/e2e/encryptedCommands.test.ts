import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * Every command of ../shared/design.md in encrypted DMs, created as Element X creates a DM
 * (encryption in the initial state), the human on matrix-js-sdk's Rust crypto: each agent answers
 * each command once, encrypted, with what it understood; the bridge restarts twice on the way
 * (a reminder and a timer set before a restart fire after it); no event fails to decrypt on the
 * human's side.
 */
const REMINDERS = "@_agent_reminders:localhost";
const FAQ = "@_agent_faq:localhost";
const TIMER = "@_agent_timer:localhost";

const text = (ev: PlainEvent) => String(ev.content.body ?? "");
const relatesTo = (ev: PlainEvent) =>
  (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
    ?.event_id;
const idIn = (body: string) => /Id `([0-9a-z]{5})`/.exec(body)?.[1] ?? "(no id)";

describe("every command in encrypted DMs, across restarts", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  const dms = new Map<string, string>();
  /** Every command sent, by DM: each must be answered exactly once. */
  const commands = new Map<string, string[]>();

  async function openDm(agent: string): Promise<void> {
    const dm = await alice.createRoom({
      is_direct: true,
      invite: [agent],
      preset: alice.sdk.Preset.TrustedPrivateChat,
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
      ],
    });
    await alice.waitForMembership(dm, agent, "join");
    const greeting = await alice.waitForEvent(
      dm,
      (ev) => ev.sender === agent && ev.content.msgtype === "m.notice",
      30_000,
    );
    expect(greeting.encrypted).toEqual({ decrypted: true });
    dms.set(agent, dm);
    commands.set(dm, []);
  }

  /** Sends `body` in the agent's DM (or `dm`) and returns the agent's reply to it (decrypted, a notice). */
  async function say(agent: string, body: string, dm = dms.get(agent)!): Promise<string> {
    const sent = await alice.sendText(dm, body);
    commands.get(dm)!.push(sent);
    const reply = await alice.waitForEvent(
      dm,
      (ev) => ev.sender === agent && ev.content.msgtype === "m.notice" && relatesTo(ev) === sent,
      30_000,
    );
    expect(reply.encrypted).toEqual({ decrypted: true });
    expect(reply.content.msgtype).toBe("m.notice");
    return text(reply);
  }

  /** A message the agent sends by itself (a reminder firing, a timer ringing). */
  async function delivered(agent: string, marker: string): Promise<PlainEvent> {
    const ev = await alice.waitForEvent(
      dms.get(agent)!,
      (e) => e.sender === agent && e.content.msgtype === "m.text" && text(e).includes(marker),
      30_000,
    );
    expect(ev.encrypted).toEqual({ decrypted: true });
    return ev;
  }

  async function restart(): Promise<void> {
    await fixture.stopBridge();
    await fixture.startBridge();
  }

  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: {
        bridge: { admins: ["@alice:localhost"], command_rate_per_minute: 100_000 },
        encryption: { enabled: true },
        agents: { reminders: { min_interval_seconds: 1 } },
      },
    });
    await fixture.startBridge();
    alice = await createHuman(fixture.synapse, "alice", { encrypted: true });
    for (const agent of [REMINDERS, FAQ, TIMER]) await openDm(agent);
  });

  afterAll(async () => {
    await alice?.stop();
    await fixture?.close();
  });

  it("reminders: every form of the design, list, snooze, cancel, tz, room; one fires after a restart", async () => {
    expect(await say(REMINDERS, "tz Europe/Berlin")).toMatch(/^Your timezone is now \*\*Europe\/Berlin\*\* /);
    const stretch = await say(REMINDERS, "in 10 minutes stretch");
    expect(stretch).toMatch(/^⏰ I'll remind you \*\*.*\*\* \(Europe\/Berlin\), in 10 minutes:\n> stretch\n/);
    expect(await say(REMINDERS, "tomorrow at 9am standup")).toMatch(
      /^⏰ I'll remind you \*\*[^*]+, 09:00\*\* \(Europe\/Berlin\), in [^:]+:\n> standup\n/,
    );
    expect(await say(REMINDERS, "at 17:30 go home")).toMatch(
      /^⏰ I'll remind you \*\*[^*]+, 17:30\*\* \(Europe\/Berlin\), in [^:]+:\n> go home\n/,
    );
    expect(await say(REMINDERS, "every day at 9:00 standup")).toContain("\nRepeats every day at 09:00.\n");
    expect(await say(REMINDERS, "every 2 hours drink water")).toContain("Repeats every 2 hours.");
    expect(await say(REMINDERS, "cron 0 9 * * 1-5 standup")).toContain(
      "\nRepeats every weekday (Monday to Friday) at 09:00 (cron `0 9 * * 1-5`).\n",
    );
    // `room` pings a group room; in a DM the agent says so instead of guessing (the group room is below).
    expect(await say(REMINDERS, "room in 1 hour deploy")).toBe(
      "`room` reminders notify everyone in a group room. Here in our DM, just leave out `room`.",
    );
    const list = await say(REMINDERS, "list");
    for (const what of ["stretch", "standup", "go home", "drink water"]) expect(list).toContain(what);
    const id = idIn(stretch);
    expect(await say(REMINDERS, `snooze ${id} 15m`)).toMatch(
      new RegExp(`^😴 Snoozed \`${id}\` until \\*\\*`),
    );
    expect(await say(REMINDERS, `cancel ${id}`)).toBe(`Cancelled \`${id}\`: stretch`);
    expect(await say(REMINDERS, "list")).not.toContain("stretch");

    await say(REMINDERS, "in 3 seconds after the restart");
    await restart();
    const fired = await delivered(REMINDERS, "after the restart");
    expect(text(fired)).toMatch(new RegExp(`^⏰ ${alice.userId}: after the restart`));
  });

  it("faq: set, read by key, shortcut and near miss, alias, list, search, history, global, delete", async () => {
    expect(await say(FAQ, "set WiFi Network `office`, password **hunter2**")).toBe("Saved **WiFi**.");
    expect(await say(FAQ, "wifi")).toBe("Network `office`, password **hunter2**");
    expect(await say(FAQ, "?WIFI")).toBe("Network `office`, password **hunter2**");
    expect(await say(FAQ, "wfii")).toBe("Did you mean **WiFi**?\n\nNetwork `office`, password **hunter2**");
    expect(await say(FAQ, "alias wlan wifi")).toBe("**wlan** now answers like **WiFi**.");
    expect(await say(FAQ, "?wlan")).toBe("Network `office`, password **hunter2**");
    await restart();
    expect(await say(FAQ, "set printer Second floor, next to the kitchen")).toBe("Saved **printer**.");
    expect(await say(FAQ, "list")).toBe("Entries in this room (2): **printer**, **WiFi** (also wlan)");
    expect(await say(FAQ, "search kitchen")).toMatch(/^Results for “kitchen”:\n1\. \*\*printer\*\*/);
    expect(await say(FAQ, "history printer")).toMatch(
      /^History of \*\*printer\*\*, times in Europe\/Berlin:\n1\. .*@alice:localhost set it: “Second floor/m,
    );
    expect(await say(FAQ, "set --global vpn Use **WireGuard**")).toBe("Saved global entry **vpn**.");
    expect(await say(FAQ, "?vpn")).toBe("Use **WireGuard**");
    expect(await say(FAQ, "delete printer")).toMatch(/^Deleted \*\*printer\*\*/);
    expect(await say(FAQ, "delete --global vpn")).toMatch(/^Deleted (global entry )?\*\*vpn\*\*/);
  });

  it("timers: every form of the design, list, cancel; one rings after a restart", async () => {
    expect(await say(TIMER, "10m")).toMatch(/^⏱️ Timer set for 10m: it ends /);
    expect(await say(TIMER, "1h30m tea")).toMatch(/^⏱️ Timer \*\*tea\*\* set for 1h 30m: /);
    expect(await say(TIMER, "90 seconds")).toMatch(/^⏱️ Timer set for 1m 30s: /);
    expect(await say(TIMER, "until 15:00 meeting")).toMatch(
      /^⏱️ Timer \*\*meeting\*\* set for [^:]+: it ends (tomorrow )?15:00 \(Europe\/Berlin\)\./,
    );
    const list = await say(TIMER, "list");
    for (const what of ["tea", "meeting"]) expect(list).toContain(what);
    expect(await say(TIMER, "cancel tea")).toMatch(/^Cancelled \*\*tea\*\* \(`[0-9a-z]{5}`\)/);
    expect(await say(TIMER, "list")).not.toContain("tea");

    await say(TIMER, "4s eggs");
    await restart();
    const rang = await delivered(TIMER, "**eggs**");
    expect(text(rang)).toBe(`⏰ ${alice.userId}: your timer **eggs** (4s) is done.`);
  });

  it("reminders in an encrypted group room: `!remind room` pings @room, encrypted", async () => {
    const room = await alice.createRoom({
      name: "team",
      invite: [REMINDERS],
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
      ],
    });
    await alice.waitForMembership(room, REMINDERS, "join");
    commands.set(room, []);
    expect(await say(REMINDERS, "!remind help", room)).toMatch(/^I remind you /);
    expect(await say(REMINDERS, "!remind room in 2 seconds deploy now", room)).toMatch(
      /^⏰ I'll notify \*\*the whole room\*\* .*\n> deploy now\n/,
    );
    const ping = await alice.waitForEvent(
      room,
      (e) => e.sender === REMINDERS && e.content.msgtype === "m.text" && text(e).includes("deploy now"),
      30_000,
    );
    expect(ping.encrypted).toEqual({ decrypted: true });
    expect(text(ping)).toMatch(/^⏰ @room: deploy now/);
    expect(ping.content["m.mentions"]).toEqual({ user_ids: [alice.userId], room: true });
  });

  it("answered every command exactly once, and nothing failed to decrypt", async () => {
    // A last round trip per DM: per-room order means every earlier answer has arrived before it.
    for (const agent of [REMINDERS, FAQ, TIMER]) await say(agent, "help");
    for (const [dm, sent] of commands) {
      const timeline = alice.timeline(dm);
      for (const id of sent)
        expect([id, timeline.filter((ev) => relatesTo(ev) === id).length]).toEqual([id, 1]);
      expect(timeline.filter((ev) => ev.encrypted?.failed)).toEqual([]);
      expect(timeline.filter((ev) => ev.sender !== alice.userId && ev.type === "m.room.encrypted")).toEqual(
        [],
      );
    }
  });
});
