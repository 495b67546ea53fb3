import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cliRun";
import { freeLoopbackPort } from "../harness/bridgeFixture";
import { startSynapse, type SynapseHandle } from "../harness/synapse";
import { createHuman, type Human, type PlainEvent } from "../harness/human";

/**
 * What a new operator does, on a real Synapse: copy the committed sample, fill in the
 * homeserver, `generate-registration`, `doctor`, `start` (the real CLI, as a process). Then a
 * send parks (the agent was kicked before its timer rang), a bridge admin finds it with
 * `parked` (in a DM with the bridge bot and from the CLI), re-invites the agent, and `retry`
 * delivers it exactly once.
 */
const BOT = "@agentbridge:localhost";
const TIMER = "@_agent_timer:localhost";
const TOKEN = "operator-test-token-0123456789abcdef";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (ev: PlainEvent) => String(ev.content.body ?? "");
const fromBot = (ev: PlainEvent) => ev.sender === BOT && ev.content.msgtype === "m.notice";
const repliesTo = (eventId: string) => (ev: PlainEvent) =>
  fromBot(ev) &&
  (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
    ?.event_id === eventId;

describe("a new operator on a real Synapse", () => {
  const dir = mkdtempSync(join(tmpdir(), "mab-operator-"));
  const configPath = join(dir, "config.yaml");
  const saved = { ...process.env };
  let synapse: SynapseHandle;
  let bridge: ChildProcess | undefined;
  let logs = "";
  let alice: Human;
  let bob: Human;
  let port: number;

  beforeAll(async () => {
    port = await freeLoopbackPort();
    // Where this test keeps its files (an operator would edit these keys in the file instead).
    Object.assign(process.env, {
      MAB_APPSERVICE_PORT: String(port),
      MAB_APPSERVICE_URL: `http://127.0.0.1:${port}`,
      MAB_APPSERVICE_REGISTRATION: join(dir, "registration.yaml"),
      MAB_DATABASE_DATA_DIR: join(dir, "data"),
      MAB_BRIDGE_ADMINS: "@alice:localhost",
      MAB_ADMIN_TOKEN: TOKEN,
      MAB_LOGGING_FORMAT: "json",
    });
    // 1. cp config/config.sample.yaml config/config.yaml; set the domain.
    const sample = readFileSync(join(__dirname, "..", "..", "config", "config.sample.yaml"), "utf8");
    writeFileSync(configPath, sample.replace("domain: example.org", "domain: localhost"));
    // 2. generate-registration, and give the file to the homeserver.
    const reg = await runCli("generate-registration", "--config", configPath);
    expect(reg.err).toBe("");
    expect(reg.code).toBe(0);
    synapse = await startSynapse({ registrationPaths: [join(dir, "registration.yaml")] });
    writeFileSync(
      configPath,
      readFileSync(configPath, "utf8").replace("url: http://127.0.0.1:8008", `url: ${synapse.baseUrl}`),
    );
  });

  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    if (bridge && bridge.exitCode === null) {
      bridge.kill("SIGTERM");
      await new Promise((r) => bridge!.once("exit", r));
    }
    await synapse?.stop();
    if (process.env.MAB_TEST_KEEP_LOGS) writeFileSync(process.env.MAB_TEST_KEEP_LOGS, logs);
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("doctor finds nothing wrong, start brings the bridge up", async () => {
    const doctor = await runCli("doctor", "--config", configPath);
    expect(doctor.out).not.toContain("✘");
    expect(doctor.out).toContain("✔ homeserver reaches the bridge (ping)");
    expect(doctor.out).toContain("Everything looks right.");
    expect(doctor.code).toBe(0);

    bridge = spawn(process.execPath, ["bin/matrix-agent-bridge.js", "start", "--config", configPath], {
      env: process.env,
    });
    bridge.stdout!.on("data", (d) => (logs += d));
    bridge.stderr!.on("data", (d) => (logs += d));
    let ready = false;
    for (let i = 0; i < 300 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await sleep(100);
    }
    expect(ready).toBe(true);
    expect(logs).not.toContain(TOKEN);
  });

  it("a parked send is listed by `parked` and delivered once by `retry`", async () => {
    alice = await createHuman(synapse, "alice");
    const room = await alice.createRoom({ name: "kitchen" });
    await alice.client.invite(room, TIMER);
    await alice.waitForMembership(room, TIMER, "join");
    const command = await alice.sendText(room, "!timer 4 seconds eggs");
    await alice.waitForEvent(
      room,
      (ev) => ev.sender === TIMER && text(ev).includes("eggs") && ev.content.msgtype === "m.notice",
    );
    // The agent is kicked before its timer rings: the ring is refused (403) and parked.
    await alice.client.kick(room, TIMER, "testing");
    expect(command).toBeTruthy();

    const dm = await alice.createDm(BOT);
    const hello = await alice.waitForEvent(dm, fromBot);
    expect(text(hello)).toContain("Bridge admin commands");
    const ask = async (body: string) =>
      text(await alice.waitForEvent(dm, repliesTo(await alice.sendText(dm, body)), 20_000));

    let parked = "";
    for (let i = 0; i < 40 && !parked.includes("eggs"); i++) {
      parked = await ask("parked");
      if (!parked.includes("eggs")) await sleep(500);
    }
    expect(parked).toMatch(/\*\*1 parked message\*\*/);
    const id = /`([0-9a-f]{8})` timer → `!/.exec(parked)?.[1];
    expect(id).toBeDefined();
    expect(parked).toContain("M_FORBIDDEN");

    // The same from the CLI, through the running bridge's operator API.
    const cli = await runCli("parked", "--config", configPath);
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(id!);
    const status = await ask("status");
    expect(status).toMatch(/homeserver: reachable/);
    expect(status).toMatch(
      /- timer \(@_agent_timer:localhost\): spoke in 1 room, 1 command in the last hour/,
    );
    expect(status).toContain("1 parked");

    // Re-invited, the agent can send again; retry delivers the ring once.
    await alice.client.invite(room, TIMER);
    await alice.waitForMembership(room, TIMER, "join");
    expect(await ask(`retry ${id}`)).toMatch(/back in the queue; it is sent once/);
    const rings = () =>
      alice
        .timeline(room)
        .filter((ev) => ev.sender === TIMER && ev.content.msgtype === "m.text" && text(ev).includes("eggs"));
    await alice.waitForEvent(room, (ev) => rings().includes(ev), 20_000);
    await sleep(3_000);
    expect(rings()).toHaveLength(1);
    expect(await ask("parked")).toContain("No parked messages");
  });

  it("pauses an agent from the CLI, and refuses non-admins politely", async () => {
    const paused = await runCli("agent", "timer", "pause", "--config", configPath);
    expect(paused.out).toContain("Paused timer");
    const room = await alice.createRoom({ name: "paused" });
    await alice.client.invite(room, TIMER);
    await alice.waitForMembership(room, TIMER, "join");
    const sent = await alice.sendText(room, "!timer 5m tea");
    const answer = await alice.waitForEvent(
      room,
      (ev) =>
        ev.sender === TIMER &&
        (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
          "m.in_reply_to"
        ]?.event_id === sent,
    );
    expect(text(answer)).toContain("paused");
    expect((await runCli("agent", "timer", "resume", "--config", configPath)).out).toContain("Resumed timer");

    bob = await createHuman(synapse, "bob");
    const dm = await bob.createDm(BOT);
    expect(text(await bob.waitForEvent(dm, fromBot))).toContain(
      "only take commands from the bridge's admins",
    );
    const sentByBob = await bob.sendText(dm, "retry all");
    expect(
      text(
        await bob.waitForEvent(
          dm,
          (ev) =>
            fromBot(ev) &&
            (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
              "m.in_reply_to"
            ]?.event_id === sentByBob,
        ),
      ),
    ).toContain("only take commands");

    // A wrong token is refused with its own exit code.
    process.env.MAB_ADMIN_TOKEN = "x".repeat(32);
    const refused = await runCli("status", "--config", configPath);
    process.env.MAB_ADMIN_TOKEN = TOKEN;
    expect(refused.code).toBe(6);
    expect(refused.err).toContain("refused the command (401");
  });
});
