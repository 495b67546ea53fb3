/**
 * Cost of encryption (issue 9): round trip of a command in an encrypted DM against the same in an
 * unencrypted DM, interleaved in one run on a real Synapse (the human on matrix-js-sdk's Rust
 * crypto, the time from sending to the reply being readable — decrypted — at the human); the
 * bridge's start-up with encryption on (first start: devices created; restart: restored) and off;
 * memory per agent device (N machines on fake-indexeddb, as the bridge runs them).
 *
 * Run: `npm run build && node dist/bench/encrypted.js` (about 2 minutes); `npm run bench` runs it
 * as one of its modules. Prints one JSON object on stdout; progress on stderr.
 * Knobs: MAB_BENCH_ROUNDS (30), MAB_BENCH_DEVICES (20).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { BridgeFixture } from "../test/harness/bridgeFixture";
import { createHuman, type PlainEvent } from "../test/harness/human";
import { AgentBridge } from "../src/appservice/agentBridge";
import { cryptoRuntime } from "../src/crypto/runtime";
import { dumpDatabases, databasesWithPrefix, trackWrites } from "../src/crypto/idbSnapshot";

const ROUNDS = Number(process.env.MAB_BENCH_ROUNDS ?? 30);
const DEVICES = Number(process.env.MAB_BENCH_DEVICES ?? 20);
const ECHO = "@_agent_echo:localhost";
const say = (line: string) => process.stderr.write(`[encrypted] ${line}\n`);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** Memory per device: N machines initialised on fake-indexeddb with their keys generated and dumped. */
async function memoryPerDevice(
  n: number,
): Promise<{ devices: number; rssMBPerDevice: number; heapMBPerDevice: number }> {
  const wasm = await cryptoRuntime();
  trackWrites();
  collectGarbage();
  const before = process.memoryUsage();
  const machines = [];
  const dumps = [];
  for (let i = 0; i < n; i++) {
    const m = await wasm.OlmMachine.initialize(
      new wasm.UserId(`@_agent_m${i}:bench`),
      new wasm.DeviceId("MATRIX_AGENT_BRIDGE"),
      `bench-mem-${i}`,
    );
    await m.outgoingRequests();
    dumps.push(await dumpDatabases(await databasesWithPrefix(`bench-mem-${i}::`)));
    machines.push(m);
  }
  collectGarbage();
  const after = process.memoryUsage();
  const mb = (b: number) => b / 1024 / 1024;
  const result = {
    devices: n,
    rssMBPerDevice: round(mb(after.rss - before.rss) / n, 2),
    heapMBPerDevice: round(
      mb(
        after.heapUsed +
          after.external +
          after.arrayBuffers -
          before.heapUsed -
          before.external -
          before.arrayBuffers,
      ) / n,
      2,
    ),
  };
  for (const m of machines) m.close();
  return result;
}

async function main(): Promise<void> {
  // First, in a quiet process (nothing else allocated yet, the WebAssembly module loaded).
  await cryptoRuntime();
  const memory = await memoryPerDevice(DEVICES);
  say(`memory: ${JSON.stringify(memory)}`);
  const fixture = await BridgeFixture.create({
    config: {
      bridge: { invite_allow: ["@alice:localhost"], command_rate_per_minute: 1_000_000 },
      encryption: { enabled: true },
    },
    logLevel: process.env.MAB_BENCH_LOG_LEVEL ?? "error",
  });
  try {
    const [, firstStartMs] = await timed(() => fixture.startBridge());
    await fixture.stopBridge();
    const [, restartMs] = await timed(() => fixture.startBridge());
    await fixture.stopBridge();
    const plain = new AgentBridge(
      { ...fixture.config, encryption: { ...fixture.config.encryption, enabled: false } },
      { registration: fixture.registration },
    );
    const [, plaintextStartMs] = await timed(() => plain.start());
    await plain.stop();
    say(
      `start-up: first ${round(firstStartMs)} ms, restart ${round(restartMs)} ms, encryption off ${round(plaintextStartMs)} ms`,
    );
    await fixture.startBridge();

    const alice = await createHuman(fixture.synapse, "alice", { encrypted: true });
    const dm = async (encrypted: boolean) => {
      const room = await alice.createRoom({
        is_direct: true,
        invite: [ECHO],
        preset: alice.sdk.Preset.TrustedPrivateChat,
        initial_state: encrypted
          ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
          : [],
      });
      await alice.waitForMembership(room, ECHO, "join");
      await alice.waitForEvent(room, (ev) => ev.sender === ECHO && ev.content.msgtype === "m.notice", 30_000);
      return room;
    };
    const rooms = { encrypted: await dm(true), plaintext: await dm(false) };
    const reply = (body: string) => (ev: PlainEvent) => ev.sender === ECHO && ev.content.body === body;
    const trip = async (room: string, body: string) => {
      const t = performance.now();
      await alice.sendText(room, body);
      await alice.waitForEvent(room, reply(body), 30_000);
      return performance.now() - t;
    };
    // Warm-up (first room key share, first key query), then interleaved rounds in rotating order.
    await trip(rooms.encrypted, "warm-e");
    await trip(rooms.plaintext, "warm-p");
    const times = { encrypted: [] as number[], plaintext: [] as number[] };
    const ratios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 ? (["plaintext", "encrypted"] as const) : (["encrypted", "plaintext"] as const);
      const got: Record<string, number> = {};
      for (const kind of order) got[kind] = await trip(rooms[kind], `${kind}-${i}`);
      times.encrypted.push(got.encrypted);
      times.plaintext.push(got.plaintext);
      ratios.push(got.encrypted / got.plaintext);
    }
    await alice.stop();
    await fixture.stopBridge();
    const result = {
      rounds: ROUNDS,
      encryptedMedianMs: round(median(times.encrypted)),
      plaintextMedianMs: round(median(times.plaintext)),
      encryptedVsPlaintext: round(median(ratios), 2),
      startup: {
        firstStartMs: round(firstStartMs),
        restartMs: round(restartMs),
        encryptionOffMs: round(plaintextStartMs),
        agents: 4,
      },
      memory,
    };
    say(JSON.stringify(result));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await fixture.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
