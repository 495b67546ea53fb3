/**
 * Proves the end-to-end harness against a real Synapse: users, rooms, invites, DMs, message
 * delivery through matrix-js-sdk sync, restarts, and that no Synapse outlives its handle.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { createHuman, type Human } from "../harness/human";
import { PARENT_DEATH_LAUNCHER, startSynapse, type SynapseHandle } from "../harness/synapse";
import { ensureSynapse } from "../harness/synapseInstall";

/** True while `pid` runs (a zombie awaiting its reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

async function whoami(
  synapse: SynapseHandle,
  accessToken: string,
): Promise<{ status: number; userId?: string }> {
  const res = await fetch(`${synapse.baseUrl}/_matrix/client/v3/account/whoami`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const body = (await res.json()) as { user_id?: string };
  return { status: res.status, userId: body.user_id };
}

describe("end-to-end harness", () => {
  let synapse: SynapseHandle;
  let alice: Human;
  let bob: Human;

  beforeAll(async () => {
    synapse = await startSynapse({});
    alice = await createHuman(synapse, "alice");
    bob = await createHuman(synapse);
  });

  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    await synapse?.stop();
  });

  test("Synapse is up on loopback with the expected identity", async () => {
    expect(synapse.serverName).toBe("localhost");
    expect(synapse.baseUrl).toBe(`http://127.0.0.1:${synapse.port}`);
    const res = await fetch(`${synapse.baseUrl}/_matrix/client/versions`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { versions: string[] };
    expect(body.versions).toEqual(expect.arrayContaining(["v1.11"]));
    expect(alice.userId).toBe("@alice:localhost");
    expect(bob.userId).toMatch(/^@human-[0-9a-f]{8}:localhost$/);
    expect(await whoami(synapse, alice.accessToken)).toEqual({ status: 200, userId: alice.userId });
    // Synapse's own log output is captured.
    expect(synapse.logs()).toMatch(/Synapse now listening on TCP port/);
  });

  test("alice creates a room and invites bob; bob joins and receives alice's text", async () => {
    const roomId = await alice.createRoom({ name: "harness room" });
    await alice.client.invite(roomId, bob.userId);

    const invited = await bob.waitForInvite((i) => i.roomId === roomId);
    expect(invited).toBe(roomId);
    expect(bob.invites().find((i) => i.roomId === roomId)).toMatchObject({
      inviter: alice.userId,
      isDirect: false,
    });

    await bob.joinRoom(roomId);
    await alice.waitForMembership(roomId, bob.userId, "join");

    const eventId = await alice.sendText(roomId, "hello bob");
    expect(eventId).toMatch(/^\$/);
    const received = await bob.waitForEvent(roomId, (e) => e.event_id === eventId);
    expect(received).toMatchObject({
      type: "m.room.message",
      sender: alice.userId,
      room_id: roomId,
      content: { msgtype: "m.text", body: "hello bob" },
    });
    // Already-seen events are found again (no race between acting and waiting).
    const again = await bob.waitForEvent(roomId, (e) => e.type === "m.room.message", 1000);
    expect(again.event_id).toBe(eventId);
    // The sender's own timeline has the confirmed event too.
    expect(alice.timeline(roomId).map((e) => e.event_id)).toContain(eventId);
    // A wait that can never succeed fails with a clear message.
    await expect(bob.waitForEvent(roomId, (e) => e.type === "never.sent", 300)).rejects.toThrow(/timed out/);
  });

  test("alice's DM to bob is an is_direct trusted_private_chat invite", async () => {
    const dmId = await alice.createDm(bob.userId);

    await bob.waitForInvite((i) => i.roomId === dmId);
    const invite = bob.invites().find((i) => i.roomId === dmId);
    expect(invite).toEqual({ roomId: dmId, inviter: alice.userId, isDirect: true });

    const [joined] = await bob.acceptInvites((i) => i.roomId === dmId);
    expect(joined).toBe(dmId);
    const joinRules = await alice.waitForEvent(dmId, (e) => e.type === "m.room.join_rules");
    expect(joinRules.content).toEqual({ join_rule: "invite" });
    const bobJoin = await alice.waitForEvent(
      dmId,
      (e) => e.type === "m.room.member" && e.state_key === bob.userId && e.content.membership === "join",
    );
    expect(bobJoin.sender).toBe(bob.userId);
    // Like Element, the creator records the DM in m.direct.
    const direct = alice.client.getAccountData(alice.sdk.EventType.Direct)?.getContent();
    expect(direct?.[bob.userId]).toContain(dmId);
  });

  test("space hierarchy lists a child room", async () => {
    const spaceId = await alice.createRoom({ name: "space", creation_content: { type: "m.space" } });
    const childId = await alice.createRoom({ name: "child" });
    await alice.client.sendStateEvent(
      spaceId,
      alice.sdk.EventType.SpaceChild,
      { via: [synapse.serverName] },
      childId,
    );
    const tree = await alice.hierarchy(spaceId);
    expect(tree.rooms.map((r) => r.room_id).sort()).toEqual([spaceId, childId].sort());
    expect(tree.rooms.find((r) => r.room_id === spaceId)?.room_type).toBe("m.space");
  });

  test("restart keeps users and rooms; clients sync again", async () => {
    const roomId = await alice.createRoom({ invite: [bob.userId] });
    await bob.joinRoom(await bob.waitForInvite((i) => i.roomId === roomId));
    const pidBefore = synapse.pid;
    expect(pidBefore).toBeDefined();

    const t0 = Date.now();
    await synapse.restart();
    process.stdout.write(`[e2e] Synapse restart took ${Date.now() - t0} ms\n`);

    expect(synapse.pid).toBeDefined();
    expect(synapse.pid).not.toBe(pidBefore);
    expect(alive(pidBefore!)).toBe(false);
    // Same port, same database: the old access token still works.
    expect(await whoami(synapse, alice.accessToken)).toEqual({ status: 200, userId: alice.userId });
    // Registering the same name again fails: the user survived.
    await expect(synapse.registerUser("alice", "whatever")).rejects.toThrow(/M_USER_IN_USE/);

    // Both running clients recover their sync loops and a message flows again.
    alice.client.retryImmediately();
    bob.client.retryImmediately();
    const eventId = await alice.sendText(roomId, "after restart");
    const got = await bob.waitForEvent(roomId, (e) => e.event_id === eventId, 30_000);
    expect(got.content.body).toBe("after restart");

    // A fresh client after the restart sees the old rooms in its initial sync.
    const alice2 = await createHuman(synapse);
    try {
      expect(alice2.userId).not.toBe(alice.userId);
    } finally {
      await alice2.stop();
    }
    const aliceAgain = alice.client.getRoom(roomId);
    expect(aliceAgain?.getMyMembership()).toBe("join");
  });

  test("stop() leaves no process behind and removes the data dir", async () => {
    const other = await startSynapse({ serverName: "other.test" });
    const pid = other.pid!;
    expect(alive(pid)).toBe(true);
    // The pid is Synapse itself (the launcher exec'd into it), so signals reach it.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("synapse.app.homeserver");
    const user = await other.registerUser("carol", "pw", true);
    expect(user.userId).toBe("@carol:other.test");
    expect(existsSync(other.dataDir)).toBe(true);

    const t0 = Date.now();
    await other.stop();
    process.stdout.write(`[e2e] Synapse stop took ${Date.now() - t0} ms\n`);

    expect(alive(pid)).toBe(false);
    expect(other.pid).toBeUndefined();
    expect(await portAcceptsConnections(other.port)).toBe(false);
    expect(existsSync(other.dataDir)).toBe(false);
    expect(other.logs()).toMatch(/Received SIGTERM, shutting down/);
    await other.stop(); // idempotent
  });

  test("a Synapse child dies with its parent even when the parent is SIGKILLed", async () => {
    const { python } = await ensureSynapse();
    // A plain Node parent starts a long-running Python child through the same launcher, then is killed.
    const script = `
      const { spawn } = require("node:child_process");
      const [python, launcher] = JSON.parse(process.env.MAB_TEST_ARGS);
      const child = spawn(python, ["-c", launcher, String(process.pid), "-c", "import time; time.sleep(120)"], { stdio: "ignore" });
      process.stdout.write(String(child.pid) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ["-e", script], {
      env: { ...process.env, MAB_TEST_ARGS: JSON.stringify([python, PARENT_DEATH_LAUNCHER]) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once("data", (d: Buffer) => resolve(Number.parseInt(d.toString(), 10)));
      parent.once("exit", (code) => reject(new Error(`parent exited early (${code})`)));
    });
    // Let the launcher reach exec, then check the grandchild is the sleeping Python.
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(childPid)).toBe(true);
    expect(readFileSync(`/proc/${childPid}/cmdline`, "utf8")).toContain("time.sleep(120)");

    parent.kill("SIGKILL");
    expect(await waitDead(childPid, 5000)).toBe(true);
  });
});
