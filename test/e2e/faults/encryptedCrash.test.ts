/**
 * SIGKILL in an encrypted DM (bridge in a child process, human on matrix-js-sdk's Rust crypto):
 * after the claim, mid-decryption and mid-send (see POINTS),
 * on SQLite (the embedded default), PGlite and PostgreSQL. Afterwards: the same device, every command answered exactly once, no
 * decryption failure on either side. And two bridge processes on one PostgreSQL, the homeserver's
 * transactions shared between them in turn: nothing lost, nothing twice, no machine saved by both.
 */
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BridgeFixture, freeLoopbackPort } from "../../harness/bridgeFixture";
import { PushReorder } from "../../harness/pushReorder";
import {
  killAllBridges,
  spawnBridge,
  writeConfigFile,
  type BridgeProcess,
} from "../../harness/bridgeProcess";
import { createPgDatabase, reportFault } from "../../harness/faultKit";
import { createHuman, type Human, type PlainEvent } from "../../harness/human";
import type { FaultPoint } from "../../../src/faultPoints";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ECHO = "@_agent_echo:localhost";
const BURST = 5;
/**
 * `after-claim`: a kill before the 200 makes Synapse mark the appservice down; its retries carry
 * the stored events only, and the to-device messages (room keys) of the failed transaction and of
 * the time it was down never come in a transaction. The restarted bridge reads them back from the
 * device inbox (to-device catch-up, src/crypto/toDeviceCatchUp.ts).
 *
 * `mid-decryption`: the machine took in the burst's room key and was killed before saving; the
 * restarted one takes it in again from the feed row its save would have consumed.
 */
const POINTS: FaultPoint[] = ["after-claim", "mid-decryption", "during-send"];

describe("SIGKILL in an encrypted DM (bridge in a child process)", () => {
  let fixture: BridgeFixture;
  let alice: Human;
  let proxy: PushReorder;

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    proxy = await PushReorder.start(port);
    fixture = await BridgeFixture.create({
      pushViaPort: port,
      config: {
        bridge: { invite_allow: ["@alice:localhost"], command_rate_per_minute: 100_000 },
        encryption: { enabled: true },
      },
    });
    proxy.upstream = `http://127.0.0.1:${fixture.config.appservice.port}`;
    alice = await createHuman(fixture.synapse, "alice", { encrypted: true });
  });

  afterAll(async () => {
    killAllBridges();
    await alice?.stop();
    await fixture?.close();
    await proxy?.close();
  });

  async function encryptedDm(): Promise<string> {
    const dm = await alice.createRoom({
      is_direct: true,
      invite: [ECHO],
      preset: alice.sdk.Preset.TrustedPrivateChat,
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
      ],
    });
    await alice.waitForMembership(dm, ECHO, "join");
    await alice.waitForEvent(dm, (ev) => ev.sender === ECHO && ev.encrypted?.decrypted === true, 30_000);
    return dm;
  }

  it("two bridge processes on one PostgreSQL, transactions shared in turn: each command answered once", async () => {
    const db = await createPgDatabase();
    const ports = [fixture.config.appservice.port, await freeLoopbackPort()];
    const spawnChild = (port: number, i: number) => {
      const configPath = join(fixture.dir, `two-${i}.yaml`);
      writeConfigFile(configPath, {
        ...fixture.config,
        appservice: { ...fixture.config.appservice, port },
        database: { ...fixture.config.database, url: db.url },
      });
      // The start-up self-test's message may reach the other process: each checks on its own.
      // A device of its own: a fresh database is a new identity, which an existing device cannot take.
      const env = { MAB_ENCRYPTION_SELF_TEST_SECONDS: "0", MAB_DELIVERY_DEVICE_ID: "TWO_PROCESSES" };
      return spawnBridge({ configPath, logFile: join(fixture.dir, `two-${i}.log`), env });
    };
    const children: BridgeProcess[] = [];
    try {
      // One after the other: the first migrates the empty database.
      for (const [i, port] of ports.entries()) {
        children.push(spawnChild(port, i));
        await children[i].ready();
      }
      proxy.alternate = ports.map((p) => `http://127.0.0.1:${p}`);
      const dm = await encryptedDm();
      const n = 10;
      for (let i = 1; i <= n; i++) await alice.sendText(dm, `two-${i}`);
      const reply = (i: number) => (ev: PlainEvent) => ev.sender === ECHO && ev.content.body === `two-${i}`;
      for (let i = 1; i <= n; i++) await alice.waitForEvent(dm, reply(i), 40_000);
      await sleep(1_500);
      const replies = alice
        .timeline(dm)
        .filter((ev) => ev.sender === ECHO && /^two-\d+$/.test(String(ev.content.body)));
      const conflicts = children.map(
        (c) => (c.output().match(/CRYPTO_STORE_CONFLICT|saved by another process/g) ?? []).length,
      );
      reportFault(
        "two processes, encrypted DM (postgres)",
        "transactions alternated between two bridge processes",
        {
          delivered: new Set(replies.map((r) => r.content.body)).size,
          duplicates: replies.length - new Set(replies.map((r) => r.content.body)).size,
          transactions: [...proxy.forwarded.values()],
          storeConflicts: conflicts,
        },
      );
      expect(replies).toHaveLength(n);
      expect(new Set(replies.map((r) => r.content.body)).size).toBe(n);
      expect([...proxy.forwarded.values()].every((v) => v > 0)).toBe(true);
      expect(alice.timeline(dm).filter((ev) => ev.encrypted?.failed)).toEqual([]);
      expect(conflicts).toEqual([0, 0]);
    } finally {
      proxy.alternate = undefined;
      for (const c of children) c.kill("SIGTERM");
      await Promise.all(children.map((c) => c.exited));
      await db.drop();
    }
  });

  // SQLite is the embedded default; PGlite stays for data dirs that already hold it.
  describe.each(["sqlite", "pglite", "postgres"] as const)("on %s", (backend) => {
    let child: BridgeProcess | undefined;
    let configPath: string;
    let logFile: string;
    let armFile: string;
    let dm: string;
    let identity: string | undefined;
    let dropDb: (() => Promise<void>) | undefined;
    // Each backend's database is its own identity, so its own device.
    const device = `EKILL_${backend.toUpperCase()}`;

    const start = (point?: FaultPoint) => {
      child = spawnBridge({
        configPath,
        logFile,
        env: {
          MAB_FAULT_KILL_AT: point,
          MAB_FAULT_KILL_AFTER: "1",
          MAB_FAULT_ARM_FILE: armFile,
          MAB_DELIVERY_DEVICE_ID: device,
        },
      });
      return child.ready();
    };
    const agentIdentity = async () =>
      (await alice.client.getCrypto()!.getUserDeviceInfo([ECHO], true))
        .get(ECHO)
        ?.get(device)
        ?.getIdentityKey();
    const replyTo = (body: string) => (ev: PlainEvent) =>
      ev.sender === ECHO && ev.content.msgtype === "m.notice" && ev.content.body === body;

    beforeAll(async () => {
      const name = `ekill-${backend}`;
      let database: { url?: string; data_dir: string; engine?: string } = {
        data_dir: join(fixture.dir, name),
        engine: backend,
      };
      if (backend === "postgres") {
        const db = await createPgDatabase();
        dropDb = db.drop;
        database = { url: db.url, data_dir: "unused" };
      }
      configPath = join(fixture.dir, `${name}.yaml`);
      writeConfigFile(configPath, {
        ...fixture.config,
        database: { ...fixture.config.database, ...database },
      });
      logFile = join(fixture.dir, `${name}.log`);
      armFile = join(fixture.dir, `${name}.armed`);
      await start(POINTS[0]);
      dm = await alice.createRoom({
        is_direct: true,
        invite: [ECHO],
        preset: alice.sdk.Preset.TrustedPrivateChat,
        initial_state: [
          { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
        ],
      });
      await alice.waitForMembership(dm, ECHO, "join");
      await alice.waitForEvent(dm, (ev) => ev.sender === ECHO && ev.encrypted?.decrypted === true, 30_000);
      identity = await agentIdentity();
    });

    afterAll(async () => {
      child?.kill("SIGTERM");
      await child?.exited;
      await dropDb?.();
    });

    it.each(POINTS.map((p, i) => [p, i] as const))(
      "killed at %s: same device, each command answered once",
      async (point, index) => {
        const tag = `k${index}-${backend}`;
        const running = child!;
        // A new room key for this burst, so that its to-device message goes through the machine.
        await alice.client.getCrypto()!.forceDiscardSession(dm);
        writeFileSync(armFile, "");
        for (let i = 1; i <= BURST; i++) await alice.sendText(dm, `${tag}-${i}`);
        const ended = await Promise.race([running.exited, sleep(30_000).then(() => undefined)]);
        rmSync(armFile, { force: true });
        expect(ended?.signal).toBe("SIGKILL");
        await start(POINTS[index + 1]);
        try {
          // Synapse retries the transaction the kill cut off after its own backoff (it grows with
          // every failed push, and the earlier processes of this file were stopped too).
          for (let i = 1; i <= BURST; i++) await alice.waitForEvent(dm, replyTo(`${tag}-${i}`), 90_000);
        } catch (err) {
          // The restarted bridge's log says why (the fixture's directory is gone afterwards).
          throw new Error(`${(err as Error).message}\nbridge log:\n${child!.output().slice(-6000)}`);
        }
        await sleep(1_500);
        const replies = alice
          .timeline(dm)
          .filter((ev) => ev.sender === ECHO && String(ev.content.body).startsWith(`${tag}-`));
        const failed = alice.timeline(dm).filter((ev) => ev.encrypted?.failed);
        const sameDevice = (await agentIdentity()) === identity;
        const couldNotRead = replies.filter((ev) => String(ev.content.body).startsWith("I could not read"));
        reportFault(
          `SIGKILL at ${point} in an encrypted DM (${backend})`,
          `SIGKILL at the first ${point} during ${BURST} encrypted commands, then restart`,
          {
            delivered: new Set(replies.map((r) => r.content.body)).size,
            duplicates: replies.length - new Set(replies.map((r) => r.content.body)).size,
            decryptionFailures: failed.length + couldNotRead.length,
            sameDevice,
          },
        );
        expect(replies).toHaveLength(BURST);
        expect(new Set(replies.map((r) => r.content.body)).size).toBe(BURST);
        expect(failed).toEqual([]);
        expect(sameDevice).toBe(true);
        expect(identity).toBeTruthy();
      },
    );
  });
});
