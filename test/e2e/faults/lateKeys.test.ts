import { BridgeFixture, freeLoopbackPort } from "../../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../../harness/human";
import { PushReorder } from "../../harness/pushReorder";
import { reportFault } from "../../harness/faultKit";

/**
 * Room keys that arrive after their event, or never: a proxy between Synapse and the bridge takes
 * the Olm to-device messages out of the pushed transactions and hands them over later (or not).
 */
describe("encrypted events whose key comes late or never", () => {
  let fixture: BridgeFixture;
  let proxy: PushReorder;
  let alice: Human;
  const echo = "@_agent_echo:localhost";
  const encryption = {
    type: "m.room.encryption",
    state_key: "",
    content: { algorithm: "m.megolm.v1.aes-sha2" },
  };
  const fromEcho = (ev: PlainEvent) => ev.sender === echo && ev.content.msgtype === "m.notice";
  const repliesTo = (eventId: string) => (ev: PlainEvent) =>
    fromEcho(ev) &&
    (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
      ?.event_id === eventId;

  async function encryptedDm(): Promise<string> {
    const dm = await alice.createRoom({
      is_direct: true,
      invite: [echo],
      preset: alice.sdk.Preset.TrustedPrivateChat,
      initial_state: [encryption],
    });
    await alice.waitForMembership(dm, echo, "join");
    await alice.waitForEvent(dm, fromEcho, 30_000); // the greeting
    return dm;
  }

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    proxy = await PushReorder.start(port);
    fixture = await BridgeFixture.create({
      pushViaPort: port,
      config: {
        bridge: { invite_allow: ["@alice:localhost"] },
        encryption: { enabled: true, key_wait_seconds: 4 },
      },
    });
    proxy.upstream = `http://127.0.0.1:${fixture.config.appservice.port}`;
    await fixture.startBridge();
    alice = await createHuman(fixture.synapse, "alice", { encrypted: true });
  });

  afterAll(async () => {
    await alice?.stop();
    await fixture?.close();
    await proxy?.close();
  });

  it("answers an event once its key arrives, 2.5 s after the event", async () => {
    const dm = await encryptedDm();
    proxy.delayMs = 2_500;
    proxy.mode = "delay";
    const held = proxy.held;
    // A new megolm session for this message: its key goes out now, and is held back.
    await alice.client.getCrypto()!.forceDiscardSession(dm);
    const question = await alice.sendText(dm, "late key");
    const answer = await alice.waitForEvent(dm, repliesTo(question), 20_000);
    proxy.mode = "pass";
    expect(proxy.held).toBeGreaterThan(held);
    expect(answer.content.body).toBe("late key");
    expect(answer.encrypted).toEqual({ decrypted: true });
    const replies = alice.timeline(dm).filter(repliesTo(question));
    reportFault("late key", "room key held back 2.5 s", { held: proxy.held - held, replies: replies.length });
    expect(replies).toHaveLength(1);
  });

  it("reads back from the device inbox a room key no transaction delivered", async () => {
    const dm = await encryptedDm();
    proxy.mode = "drop";
    const held = proxy.held;
    await alice.client.getCrypto()!.forceDiscardSession(dm);
    const question = await alice.sendText(dm, "lost key");
    // The proxy dropped the key from every push; Synapse keeps it until the device acknowledges it.
    const answer = await alice.waitForEvent(dm, repliesTo(question), 20_000);
    proxy.mode = "pass";
    expect(proxy.held).toBeGreaterThan(held);
    expect(answer.encrypted).toEqual({ decrypted: true });
    expect(answer.content.body).toBe("lost key");
    expect(alice.timeline(dm).filter(repliesTo(question))).toHaveLength(1);
  });

  it("tells the sender, encrypted, when the key never arrives within encryption.key_wait_seconds", async () => {
    const dm = await encryptedDm();
    proxy.mode = "drop";
    // Alice's client keeps the new key from devices she has not verified: the agent's device never
    // gets it, neither in a push nor in its device inbox.
    const crypto = alice.client.getCrypto()!;
    crypto.globalBlacklistUnverifiedDevices = true;
    try {
      await crypto.forceDiscardSession(dm);
      const question = await alice.sendText(dm, "never key");
      const answer = await alice.waitForEvent(dm, repliesTo(question), 20_000);
      expect(answer.encrypted).toEqual({ decrypted: true });
      expect(String(answer.content.body)).toMatch(
        /^I could not read your encrypted message \(.+\)\. Please send it again\.$/,
      );
      expect(alice.timeline(dm).filter(repliesTo(question))).toHaveLength(1);
    } finally {
      crypto.globalBlacklistUnverifiedDevices = false;
      await crypto.forceDiscardSession(dm);
      proxy.mode = "pass";
    }
  });
});
