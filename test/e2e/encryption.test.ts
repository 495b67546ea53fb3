import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * Encrypted conversations against a real Synapse (with the MSC2409/MSC3202 switches), the human
 * on matrix-js-sdk's Rust crypto — the crypto Element uses.
 */
describe("encrypted conversations", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  let dm: string;
  const echo = "@_agent_echo:localhost";
  const isNotice = (ev: PlainEvent) => ev.sender === echo && ev.content.msgtype === "m.notice";
  const repliesTo = (eventId: string) => (ev: PlainEvent) =>
    isNotice(ev) &&
    (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
      ?.event_id === eventId;

  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: {
        bridge: { invite_allow: ["@alice:localhost"] },
        encryption: { enabled: true, key_wait_seconds: 5 },
      },
    });
    await fixture.startBridge();
    alice = await createHuman(fixture.synapse, "alice", { encrypted: true });
  });

  afterAll(async () => {
    await alice?.stop();
    await fixture?.close();
  });

  it("answers help in a DM created as Element X does (encryption in the initial state), encrypted", async () => {
    dm = await alice.createRoom({
      is_direct: true,
      invite: [echo],
      preset: alice.sdk.Preset.TrustedPrivateChat,
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
      ],
    });
    await alice.waitForMembership(dm, echo, "join");
    const greeting = await alice.waitForEvent(dm, isNotice, 30_000);
    expect(greeting.encrypted).toEqual({ decrypted: true });

    const question = await alice.sendText(dm, "help");
    const answer = await alice.waitForEvent(dm, repliesTo(question), 30_000);
    expect(answer.encrypted).toEqual({ decrypted: true });
    expect(answer.type).toBe("m.room.message");
    expect(String(answer.content.body)).toContain("I repeat what you say");
    expect(alice.timeline(dm).filter((e) => e.encrypted?.failed)).toEqual([]);
  });

  it("lists the agent's device, signed by its owner", async () => {
    const crypto = alice.client.getCrypto()!;
    const devices = await crypto.getUserDeviceInfo([echo], true);
    const ids = [...(devices.get(echo)?.keys() ?? [])];
    expect(ids).toEqual(["MATRIX_AGENT_BRIDGE"]);
    const status = await crypto.getDeviceVerificationStatus(echo, "MATRIX_AGENT_BRIDGE");
    expect(status?.signedByOwner).toBe(true);
  });

  it("keeps the same device across a restart and answers after it", async () => {
    const crypto = alice.client.getCrypto()!;
    const before = (await crypto.getUserDeviceInfo([echo], true))
      .get(echo)
      ?.get("MATRIX_AGENT_BRIDGE")
      ?.getIdentityKey();
    await fixture.stopBridge();
    await fixture.startBridge();
    const question = await alice.sendText(dm, "still there?");
    const answer = await alice.waitForEvent(dm, repliesTo(question), 30_000);
    expect(answer.content.body).toBe("still there?");
    expect(answer.encrypted).toEqual({ decrypted: true });
    const after = (await crypto.getUserDeviceInfo([echo], true))
      .get(echo)
      ?.get("MATRIX_AGENT_BRIDGE")
      ?.getIdentityKey();
    expect(after).toBe(before);
    expect(before).toBeTruthy();
  });
});
