import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * The FAQ agent on a real Synapse, driven by matrix-js-sdk: a moderator (the room creator)
 * saves entries, a member reads them by `!faq key`, `?key` and near misses and is refused
 * edits, a bridge admin adds a global entry, and a room upgrade carries the entries over.
 */
const FAQ = "@_agent_faq:localhost";

const text = (ev: PlainEvent) => String(ev.content.body ?? "");
const isNotice = (ev: PlainEvent) => ev.sender === FAQ && ev.content.msgtype === "m.notice";
const repliesTo = (eventId: string) => (ev: PlainEvent) =>
  isNotice(ev) &&
  (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
    ?.event_id === eventId;

describe("FAQ agent on a real Synapse", () => {
  let fixture: BridgeFixture;
  let alice: Human; // creates the rooms: a moderator
  let bob: Human; // a member with power level 0
  let carol: Human; // a bridge admin
  let room: string;

  async function say(human: Human, roomId: string, body: string): Promise<PlainEvent> {
    const sent = await human.sendText(roomId, body);
    return human.waitForEvent(roomId, repliesTo(sent));
  }

  /** Invites the agent (as a human in Element would) and waits for its hello. */
  async function addAgent(roomId: string): Promise<void> {
    await alice.client.invite(roomId, FAQ);
    await alice.waitForMembership(roomId, FAQ, "join");
    await alice.waitForEvent(roomId, (ev) => isNotice(ev) && text(ev).includes("!faq help"));
  }

  beforeAll(async () => {
    fixture = await BridgeFixture.create({ config: { bridge: { admins: ["@carol:localhost"] } } });
    await fixture.startBridge();
    [alice, bob, carol] = await Promise.all([
      createHuman(fixture.synapse, "alice"),
      createHuman(fixture.synapse, "bob"),
      createHuman(fixture.synapse, "carol"),
    ]);
    room = await alice.createRoom({ name: "office", preset: alice.sdk.Preset.PublicChat });
    await addAgent(room);
    await bob.joinRoom(room);
  });

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), carol?.stop()]);
    await fixture?.close();
  });

  it("lets the moderator save an entry; a member reads it by !faq key, ?key and near misses", async () => {
    const saved = await say(alice, room, "!faq set WiFi Network `office`, password **hunter2**");
    expect(text(saved)).toBe("Saved **WiFi**.");

    const answer = await say(bob, room, "!faq wifi");
    expect(text(answer)).toBe("Network `office`, password **hunter2**");
    expect(answer.content.format).toBe("org.matrix.custom.html");
    expect(answer.content.formatted_body).toBe(
      "<p>Network <code>office</code>, password <strong>hunter2</strong></p>",
    );
    expect(text(await say(bob, room, "?WIFI"))).toBe("Network `office`, password **hunter2**");
    expect(text(await say(bob, room, "!faq wfii"))).toBe(
      "Did you mean **WiFi**?\n\nNetwork `office`, password **hunter2**",
    );
    expect(text(await say(bob, room, "?wfi"))).toMatch(/^Did you mean \*\*WiFi\*\*\?/);
  });

  it("refuses an edit by a member with power level 0, and keeps the entry", async () => {
    const refused = await say(bob, room, "!faq set wifi hacked");
    expect(text(refused)).toBe(
      "Sorry, editing this room's FAQ needs power level 50 (yours is 0). Ask a moderator, or a bridge admin.",
    );
    expect(text(await say(bob, room, "!faq delete wifi"))).toMatch(/needs power level 50/);
    expect(text(await say(bob, room, "!faq wifi"))).toBe("Network `office`, password **hunter2**");
  });

  it("aliases, lists, searches, keeps history and reverts", async () => {
    expect(text(await say(alice, room, "!faq alias wlan wifi"))).toBe("**wlan** now answers like **WiFi**.");
    expect(text(await say(bob, room, "?wlan"))).toBe("Network `office`, password **hunter2**");
    await say(alice, room, "!faq set printer Second floor, next to the kitchen");
    expect(text(await say(bob, room, "!faq list"))).toBe(
      "Entries in this room (2): **printer**, **WiFi** (also wlan)",
    );
    expect(text(await say(bob, room, "!faq search kitchen"))).toMatch(
      /^Results for “kitchen”:\n1\. \*\*printer\*\*/,
    );
    await say(alice, room, "!faq set printer Moved to the third floor");
    const history = text(await say(bob, room, "!faq history printer"));
    expect(history).toMatch(
      /^History of \*\*printer\*\*, times in UTC:\n1\. .*@alice:localhost set it: “Second floor/m,
    );
    expect(history).toMatch(/\n2\. .*@alice:localhost set it: “Moved to the third floor” \*\(current\)\*/);
    expect(text(await say(alice, room, "!faq revert printer 1"))).toBe(
      "Reverted **printer** to version 1 (saved as version 3).",
    );
    expect(text(await say(bob, room, "?printer"))).toBe("Second floor, next to the kitchen");
    expect(text(await say(alice, room, "!faq delete printer"))).toMatch(/^Deleted \*\*printer\*\*/);
  });

  it("takes global entries from bridge admins only; room entries win", async () => {
    const dm = await carol.createDm(FAQ);
    await carol.waitForMembership(dm, FAQ, "join");
    expect(text(await say(alice, room, "!faq set --global vpn x"))).toBe(
      "Only bridge admins can change global FAQ entries.",
    );
    expect(text(await say(carol, dm, "set --global vpn Use **WireGuard**"))).toBe(
      "Saved global entry **vpn**.",
    );
    expect(text(await say(bob, room, "?vpn"))).toBe("Use **WireGuard**");
    await say(alice, room, "!faq set vpn Ask Alice first");
    expect(text(await say(bob, room, "?vpn"))).toBe("Ask Alice first");
  });

  it("exports the room's entries as a JSON code block for editors", async () => {
    const exported = await say(alice, room, "!faq export");
    expect(text(exported)).toMatch(/^2 entries; `!faq import` takes this back:\n\n```json\n\{/);
    expect(String(exported.content.formatted_body)).toContain('<pre><code class="language-json">');
    expect(text(await say(bob, room, "!faq export"))).toMatch(/needs power level 50/);
  });

  it("carries the entries over when the room is upgraded, and answers in the new room", async () => {
    const caps = (await alice.client.getCapabilities()) as { "m.room_versions"?: { default?: string } };
    const res = await fetch(
      `${fixture.synapse.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(room)}/upgrade`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ new_version: caps["m.room_versions"]?.default ?? "12" }),
      },
    );
    expect(res.status).toBe(200);
    const { replacement_room: next } = (await res.json()) as { replacement_room: string };
    // The room is public, so the agent follows the tombstone by itself.
    await alice.waitForMembership(next, FAQ, "join", 20_000);
    await bob.joinRoom(next);
    expect(text(await say(bob, next, "!faq wifi"))).toBe("Network `office`, password **hunter2**");
    expect(text(await say(bob, next, "?wlan"))).toBe("Network `office`, password **hunter2**");
    expect(text(await say(bob, next, "!faq history wifi"))).toMatch(/1\. .*@alice:localhost set it/);
    expect(text(await say(bob, next, "!faq set wifi hacked"))).toMatch(/needs power level 50/);
  });

  it("moves the entries of an invite-only room too; a moderator invites the agent to the new room", async () => {
    const closed = await alice.createRoom({ name: "closed" });
    await addAgent(closed);
    await say(alice, closed, "!faq set secret 42");
    const res = await fetch(
      `${fixture.synapse.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(closed)}/upgrade`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ new_version: "11" }),
      },
    );
    expect(res.status).toBe(200);
    const { replacement_room: next } = (await res.json()) as { replacement_room: string };
    // Synapse copies the invite-only join rule and invites nobody: the agent cannot follow alone.
    await addAgent(next);
    expect(text(await say(alice, next, "?secret"))).toBe("42");
  });
});
