import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";
import { join } from "node:path";
import { checkEncryptionFeeds } from "../../src/crypto/doctorCheck";
import { AgentBridge } from "../../src/appservice/agentBridge";
import { configureLogging } from "../../src/logging/logger";

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

  it("doctor: the homeserver delivers the feeds; a registration without them is explained", async () => {
    await fixture.stopBridge();
    // Synapse may still be backing off from the pushes that failed while the bridge stopped: then
    // the check warns (naming the lines to add) instead of proving delivery.
    const found = await checkEncryptionFeeds(fixture.config, fixture.registration);
    if (typeof found === "string")
      expect(found).toBe("the homeserver delivers to-device messages to the bridge");
    else expect(found.text).toContain("msc2409_to_device_messages_enabled: true");
    await expect(
      checkEncryptionFeeds(fixture.config, { ...fixture.registration, "org.matrix.msc3202": undefined }),
    ).rejects.toMatchObject({
      code: "ENCRYPTION_FEEDS",
      message: expect.stringContaining("org.matrix.msc3202"),
    });
    await fixture.startBridge();
  });

  it("a known device whose crypto store is lost gets no new identity: encryption off, with the way out", async () => {
    const crypto = alice.client.getCrypto()!;
    const identity = async () =>
      (await crypto.getUserDeviceInfo([echo], true)).get(echo)?.get("MATRIX_AGENT_BRIDGE")?.getIdentityKey();
    const before = await identity();
    await fixture.stopBridge();
    const lines: string[] = [];
    configureLogging({ level: "warn", format: "json" }, { write: (line: string) => void lines.push(line) });
    // The same homeserver, registration and device id; an empty database (the store is gone).
    const database = { ...fixture.config.database, data_dir: join(fixture.dir, "lost-store") };
    const lost = new AgentBridge({ ...fixture.config, database }, { registration: fixture.registration });
    try {
      await lost.start();
      expect(lost.encryptionActive).toBe(false);
    } finally {
      await lost.stop();
      configureLogging({ level: fixture.config.logging.level, format: "json" });
    }
    const refusal = lines
      .map((l) => JSON.parse(l) as { code?: string; err?: string; hint?: string })
      .find((l) => l.code === "CRYPTO_STORE_LOST");
    expect(refusal?.err).toContain("MATRIX_AGENT_BRIDGE");
    expect(refusal?.hint).toContain("crypto_store");
    expect(refusal?.hint).toContain("agent_devices");
    expect(refusal?.hint).toContain("delivery.device_id");
    // Nothing new was uploaded for the device: the original store still drives it.
    expect(await identity()).toBe(before);
    await fixture.startBridge();
    const question = await alice.sendText(dm, "after the lost store");
    const answer = await alice.waitForEvent(dm, repliesTo(question), 30_000);
    expect(answer.encrypted).toEqual({ decrypted: true });
    expect(answer.content.body).toBe("after the lost store");
  });
});
