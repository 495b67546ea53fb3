/**
 * Lost events (issue: "nothing lost when the homeserver restarts"). A homeserver can drop events it
 * should have pushed across its own restart (element-hq/synapse#11637). To make the loss happen
 * every time, a proxy sits between Synapse and the bridge's appservice API: right after Synapse
 * restarts in the middle of a burst of 30 commands, it answers the first transaction that carries
 * events with 200 and never forwards it. Gap recovery must notice (the transaction counter started
 * again, the homeserver was away), read the room back and answer all 30 commands, each once, in order.
 */
import { BridgeFixture, freeLoopbackPort } from "../../harness/bridgeFixture";
import { ECHO, RawUser, awaitReplies, reportFault } from "../../harness/faultKit";
import { FaultProxy } from "../../harness/faultProxy";
import { AgentBridge } from "../../../src/appservice/agentBridge";
import { echoAgent } from "../../../src/agents/echo";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("gap recovery on a real Synapse", () => {
  let fixture: BridgeFixture;
  let proxy: FaultProxy;
  let bridge: AgentBridge;

  beforeAll(async () => {
    fixture = await BridgeFixture.create({ config: { bridge: { command_rate_per_minute: 100_000 } } });
    // Synapse pushes to the registered URL (the proxy); the bridge listens behind it.
    const bridgePort = await freeLoopbackPort();
    proxy = await FaultProxy.start(`http://127.0.0.1:${bridgePort}`, fixture.config.appservice.port);
    bridge = new AgentBridge(
      { ...fixture.config, appservice: { ...fixture.config.appservice, port: bridgePort } },
      { registration: fixture.registration, definitions: [echoAgent] },
    );
    await bridge.start();
  });

  afterAll(async () => {
    await bridge?.stop();
    await proxy?.close();
    await fixture?.close();
  });

  it("answers a burst of 30 commands across a Synapse restart that loses a transaction: 30 answered, once, in order", async () => {
    const human = await RawUser.register(fixture.synapse, "gap");
    const room = await human.openDm(ECHO);
    const tag = "gap";
    let armed = false;
    const dropped: string[] = [];
    proxy.rule = (req) => {
      if (armed && req.method === "PUT" && req.path.includes("/_matrix/app/v1/transactions/")) {
        const events = (JSON.parse(req.body || "{}").events ?? []) as { content?: { body?: string } }[];
        const ours = events.filter((e) => String(e.content?.body ?? "").startsWith(tag));
        if (ours.length) {
          armed = false;
          dropped.push(...ours.map((e) => String(e.content?.body)));
          return { kind: "respond", status: 200, body: {} };
        }
      }
      return { kind: "pass" };
    };

    await human.sendNumbered(room, tag, 15);
    await fixture.synapse.restart();
    armed = true;
    await human.sendNumbered(room, tag, 15, 16);

    const counts = await awaitReplies(human, room, tag, 30, { timeoutMs: 60_000 });
    reportFault(
      "Synapse restart mid-burst, one transaction acknowledged and lost",
      `dropped ${dropped.join(", ")}`,
      {
        ...counts,
        droppedCommands: dropped.length,
      },
    );
    expect(dropped.length).toBeGreaterThanOrEqual(1); // the loss did happen
    expect(counts).toMatchObject({ delivered: 30, duplicates: 0, lost: 0, inOrder: true });
  });

  it("finds a lost command on its periodic pass too, when nothing else suggests a loss", async () => {
    const human = await RawUser.register(fixture.synapse, "gap2");
    const room = await human.openDm(ECHO);
    const tag = "quiet";
    let drop = true;
    proxy.rule = (req) => {
      if (drop && req.method === "PUT" && req.body?.includes(`"${tag} 2"`)) {
        drop = false;
        return { kind: "respond", status: 200, body: {} };
      }
      return { kind: "pass" };
    };
    await human.sendNumbered(room, tag, 3);
    await sleep(1500);
    expect(drop).toBe(false);
    // The transaction counter skipped one id, which also counts as a suspected loss; the periodic
    // pass is what a deployment relies on when the homeserver gives no sign at all.
    const read = await bridge.recoverLostEvents();
    expect(read).toBeGreaterThan(0);
    const counts = await awaitReplies(human, room, tag, 3, { timeoutMs: 30_000 });
    expect(counts).toMatchObject({ delivered: 3, duplicates: 0, lost: 0 });
  });
});
