import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HomeserverClient, MatrixHttpError } from "../../src/appservice/homeserverClient";
import { homeserverIntents } from "../../src/appservice/homeserverIntents";

/**
 * The intents' requests as a homeserver receives them (a recording fake: what is sent, as whom,
 * with which body). That they work on a real Synapse is shown by the e2e suite (invites, spaces,
 * DMs, upgrades, profiles all go through them).
 */
interface Seen {
  method: string;
  path: string;
  query: Record<string, string[]>;
  contentType?: string;
  body: Buffer;
}

describe("homeserver intents", () => {
  let server: Server;
  let seen: Seen[];
  let answer: (req: Seen) => { status: number; body: unknown };
  let client: HomeserverClient;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url!, "http://x");
        const query: Record<string, string[]> = {};
        for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
        const r: Seen = {
          method: req.method!,
          path: url.pathname,
          query,
          contentType: req.headers["content-type"],
          body: Buffer.concat(chunks),
        };
        seen.push(r);
        const { status, body } = answer(r);
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    client = new HomeserverClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, "as-token");
  });

  beforeEach(() => {
    seen = [];
    answer = () => ({ status: 200, body: { room_id: "!r:x", event_id: "$e", content_uri: "mxc://x/m" } });
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("registers a user once, on first use, and treats M_USER_IN_USE as registered", async () => {
    answer = (r) =>
      r.path.endsWith("/register")
        ? { status: 400, body: { errcode: "M_USER_IN_USE", error: "User ID already taken." } }
        : { status: 200, body: { room_id: "!r:x" } };
    const intents = homeserverIntents(client, "@bot:x");
    const agent = intents.intent("@_agent_a:x");
    await agent.join("!r:x");
    await agent.join("!s:x");
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /_matrix/client/v3/register",
      "POST /_matrix/client/v3/join/!r%3Ax",
      "POST /_matrix/client/v3/join/!s%3Ax",
    ]);
    expect(JSON.parse(seen[0].body.toString())).toEqual({
      type: "m.login.application_service",
      username: "_agent_a",
      inhibit_login: true,
    });
    expect(seen[1].query.user_id).toEqual(["@_agent_a:x"]);
  });

  it("never registers the bridge bot (the registration's sender is outside the namespace)", async () => {
    const bot = homeserverIntents(client, "@bot:x").intent("@bot:x");
    await bot.ensureRegistered();
    await bot.sendStateEvent("!space:x", "m.space.child", "!r:x", { via: ["x"] });
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      "PUT /_matrix/client/v3/rooms/!space%3Ax/state/m.space.child/!r%3Ax",
    ]);
    expect(seen[0].query.user_id).toEqual(["@bot:x"]);
  });

  it("joins through the named servers, leaves with a reason, creates rooms as the user", async () => {
    const agent = homeserverIntents(client, "@bot:x").intent("@bot:x");
    await agent.join("#room:x", ["a.example", "b.example"]);
    await agent.leave("!r:x", "not the upgrade it was said to be");
    const created = await agent.createRoom({
      createAsClient: true,
      options: { name: "n", invite: ["@h:x"] },
    });
    expect(created.room_id).toBe("!r:x");
    expect(seen[0].query.server_name).toEqual(["a.example", "b.example"]);
    expect(JSON.parse(seen[1].body.toString())).toEqual({ reason: "not the upgrade it was said to be" });
    expect(seen[2].path).toBe("/_matrix/client/v3/createRoom");
    expect(JSON.parse(seen[2].body.toString())).toEqual({ name: "n", invite: ["@h:x"] });
  });

  it("uploads media as bytes with its type, and reads and sets the profile", async () => {
    const agent = homeserverIntents(client, "@bot:x").intent("@bot:x");
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);
    expect(await agent.uploadContent(png, { name: "a b.png", type: "image/png" })).toBe("mxc://x/m");
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/_matrix/media/v3/upload",
      contentType: "image/png",
    });
    expect(seen[0].query.filename).toEqual(["a b.png"]);
    expect(seen[0].body.equals(png)).toBe(true);
    answer = () => ({ status: 200, body: { displayname: "Old" } });
    expect(await agent.getProfileInfo("@bot:x")).toEqual({ displayname: "Old" });
    await agent.setDisplayName("New");
    await agent.setAvatarUrl("mxc://x/a");
    expect(seen.slice(1).map((r) => `${r.method} ${r.path} ${r.body.toString()}`)).toEqual([
      "GET /_matrix/client/v3/profile/%40bot%3Ax ",
      'PUT /_matrix/client/v3/profile/%40bot%3Ax/displayname {"displayname":"New"}',
      'PUT /_matrix/client/v3/profile/%40bot%3Ax/avatar_url {"avatar_url":"mxc://x/a"}',
    ]);
  });

  it("resolves aliases (a room id as it is) and reports refusals as MatrixHttpError", async () => {
    const agent = homeserverIntents(client, "@bot:x").intent("@bot:x");
    expect(await agent.resolveRoom("!already:x")).toBe("!already:x");
    expect(seen).toEqual([]);
    expect(await agent.resolveRoom("#alias:x")).toBe("!r:x");
    expect(seen[0].path).toBe("/_matrix/client/v3/directory/room/%23alias%3Ax");
    answer = () => ({ status: 403, body: { errcode: "M_FORBIDDEN", error: "not invited" } });
    const refused = agent.join("!closed:x");
    await expect(refused).rejects.toBeInstanceOf(MatrixHttpError);
    await expect(refused).rejects.toMatchObject({ status: 403, errcode: "M_FORBIDDEN" });
  });
});
