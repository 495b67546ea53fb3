import { BridgeFixture } from "../harness/bridgeFixture";
import { createHuman, type Human, type PlainEvent } from "../harness/human";
import { AgentBridge } from "../../src/appservice/agentBridge";
import { HomeserverError } from "../../src/errors";

/**
 * The bridge core against a real Synapse, driven by matrix-js-sdk as the human: DMs, invites,
 * spaces, the appservice API and restarts.
 */
describe("bridge core on a real Synapse", () => {
  let fixture: BridgeFixture;
  let bridge: AgentBridge;
  let alice: Human;
  let aliceDm: string;
  const echo = "@_agent_echo:localhost";
  const isNotice = (ev: PlainEvent) => ev.sender === echo && ev.content.msgtype === "m.notice";
  const repliesTo = (eventId: string) => (ev: PlainEvent) =>
    isNotice(ev) &&
    (ev.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]
      ?.event_id === eventId;

  beforeAll(async () => {
    fixture = await BridgeFixture.create({
      config: { bridge: { invite_allow: ["@alice:localhost", "@bob:localhost"] } },
    });
    bridge = await fixture.startBridge();
    alice = await createHuman(fixture.synapse, "alice");
  });

  afterAll(async () => {
    await alice?.stop();
    await fixture?.close();
  });

  it("answers a DM started by the human: joins, greets with help, replies as m.notice in reply", async () => {
    const dm = await alice.createDm(echo);
    aliceDm = dm;
    await alice.waitForMembership(dm, echo, "join");
    const greeting = await alice.waitForEvent(dm, isNotice);
    expect(String(greeting.content.body)).toContain("I repeat what you say");

    const question = await alice.sendText(dm, "hello **there**");
    const answer = await alice.waitForEvent(dm, repliesTo(question));
    expect(answer.content.body).toBe("hello **there**");
    expect(answer.content.formatted_body).toBe("<p>hello <strong>there</strong></p>");
  });

  it("files the DM in the human's personal Agents space", async () => {
    const spaceId = await alice.waitForInvite((invite) => invite.inviter === "@agentbridge:localhost");
    await alice.joinRoom(spaceId);
    const hierarchy = await alice.hierarchy(spaceId);
    const space = hierarchy.rooms.find((r) => r.room_id === spaceId);
    expect(space?.room_type).toBe("m.space");
    expect(space?.name).toBe("Agents");
    const children = space!.children_state.map((c) => c.state_key);
    const dm = await bridge.dms!.agentFor(children[0]);
    expect(children).toHaveLength(1);
    expect(dm).toBe("echo");
  });

  it("joins a group room when invited and answers its command word and !help", async () => {
    const roomId = await alice.createRoom({ name: "team" });
    await alice.client.invite(roomId, echo);
    await alice.waitForMembership(roomId, echo, "join");
    const intro = await alice.waitForEvent(roomId, isNotice);
    expect(String(intro.content.body)).toContain("!echo help");

    const chatter = await alice.sendText(roomId, "just people talking");
    const command = await alice.sendText(roomId, "!echo ping pong");
    const reply = await alice.waitForEvent(roomId, repliesTo(command));
    expect(reply.content.body).toBe("ping pong");
    expect(alice.timeline(roomId).some(repliesTo(chatter))).toBe(false);

    const help = await alice.sendText(roomId, "!help");
    const list = await alice.waitForEvent(roomId, repliesTo(help));
    expect(String(list.content.body)).toContain("!echo");
  });

  it("refuses invites from users outside the allow-list", async () => {
    const mallory = await createHuman(fixture.synapse, "mallory");
    try {
      const roomId = await mallory.createRoom({ name: "not allowed" });
      await mallory.client.invite(roomId, echo);
      await mallory.waitForMembership(roomId, echo, "leave");
      expect(mallory.timeline(roomId).some(isNotice)).toBe(false);
    } finally {
      await mallory.stop();
    }
  });

  it("opens a DM itself so that clients show a DM with the agent", async () => {
    const bob = await createHuman(fixture.synapse, "bob");
    try {
      const roomId = await bridge.openDm("echo", bob.userId);
      const invited = await bob.waitForInvite((invite) => invite.roomId === roomId);
      const invite = bob.invites().find((i) => i.roomId === invited)!;
      expect(invite.inviter).toBe(echo);
      expect(invite.isDirect).toBe(true);
      await bob.joinRoom(roomId);
      const said = await bob.sendText(roomId, "is this a DM?");
      expect((await bob.waitForEvent(roomId, repliesTo(said))).content.body).toBe("is this a DM?");
      // Opening it again reuses the room.
      expect(await bridge.openDm("echo", bob.userId)).toBe(roomId);
    } finally {
      await bob.stop();
    }
  });

  it("puts every agent's home room in the bridge space, linked both ways, with its alias", async () => {
    const spaceId = bridge.spaceId!;
    await alice.joinRoom(spaceId);
    const hierarchy = await alice.hierarchy(spaceId);
    const home = hierarchy.rooms.find((r) => r.room_id !== spaceId);
    expect(home?.name).toBe("Echo");
    expect(home?.canonical_alias).toBe("#_agent_echo:localhost");
    const homeId = await alice.joinRoom("#_agent_echo:localhost");
    expect(homeId).toBe(home!.room_id);
    const parent = await alice.client.getStateEvent(homeId, "m.space.parent", spaceId);
    expect(parent).toMatchObject({ via: ["localhost"], canonical: true });
  });

  it("serves the appservice API only with the hs_token and answers user queries", async () => {
    const base = `http://127.0.0.1:${bridge.port}/_matrix/app/v1`;
    const auth = { Authorization: `Bearer ${fixture.registration.hs_token}` };
    expect((await fetch(`${base}/users/${encodeURIComponent(echo)}`, { headers: auth })).status).toBe(200);
    expect(
      (await fetch(`${base}/users/${encodeURIComponent("@_agent_nope:localhost")}`, { headers: auth }))
        .status,
    ).toBe(404);
    expect(
      (await fetch(`${base}/users/${encodeURIComponent(echo)}`, { headers: { Authorization: "Bearer x" } }))
        .status,
    ).toBe(403);
    const txn = await fetch(`${base}/transactions/1`, {
      method: "PUT",
      body: "{}",
      headers: { "Content-Type": "application/json" },
    });
    expect(txn.status).toBe(401);
    const health = await fetch(`http://127.0.0.1:${bridge.port}/ready`);
    expect(await health.json()).toMatchObject({ status: "ready" });
  });

  it("restarts without creating any room twice, and keeps answering", async () => {
    const before = await bridge.roomCount();
    const botRooms = async () =>
      (await bridge.homeserver.request<{ joined_rooms: string[] }>("GET", "/_matrix/client/v3/joined_rooms"))
        .joined_rooms.length;
    const botRoomsBefore = await botRooms();
    await fixture.stopBridge();
    bridge = await fixture.startBridge();
    expect(await bridge.roomCount()).toBe(before);
    expect(await botRooms()).toBe(botRoomsBefore);
    const said = await alice.sendText(aliceDm, "still there?");
    expect((await alice.waitForEvent(aliceDm, repliesTo(said))).content.body).toBe("still there?");
  });

  it("refuses to start, saying why, when the homeserver rejects its token", async () => {
    const wrong = new AgentBridge(
      {
        ...fixture.config,
        appservice: { ...fixture.config.appservice, port: 0 },
        database: { ...fixture.config.database, data_dir: ":memory:" },
      },
      { registration: { ...fixture.registration, as_token: "not-the-token" } },
    );
    const failure = wrong.start();
    await expect(failure).rejects.toBeInstanceOf(HomeserverError);
    await expect(failure).rejects.toThrow(/token/);
    await wrong.stop();
  });
});
