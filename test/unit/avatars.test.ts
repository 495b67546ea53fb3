import { openDatabase, IN_MEMORY, type Database } from "../../src/store/database";
import { migrate } from "../../src/store/migrations";
import { syncAgentUsers } from "../../src/appservice/agentUsers";
import type { IntentProvider } from "../../src/appservice/matrixIntents";
import { resolveAgents } from "../../src/agents/agentConfig";
import { parseConfig } from "../../src/config/bridgeConfig";
import { AGENT_DEFINITIONS } from "../../src/agents/registry";

/** A homeserver as the intents see it: profiles and uploads, counted. */
function fakeHomeserver() {
  const profiles = new Map<string, { displayname?: string; avatar_url?: string }>();
  const uploads: string[] = [];
  const intents: IntentProvider = {
    botUserId: "@agentbridge:example.org",
    intent: (userId: string) =>
      ({
        ensureRegistered: async () => undefined,
        getProfileInfo: async () => profiles.get(userId) ?? {},
        setDisplayName: async (name: string) =>
          void profiles.set(userId, { ...profiles.get(userId), displayname: name }),
        setAvatarUrl: async (url: string) =>
          void profiles.set(userId, { ...profiles.get(userId), avatar_url: url }),
        uploadContent: async (_data: Buffer, opts: { name: string }) => {
          uploads.push(opts.name);
          return `mxc://example.org/${opts.name}-${uploads.length}`;
        },
      }) as never,
  };
  return { intents, profiles, uploads };
}

describe("agents' default avatars", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ data_dir: IN_MEMORY });
    await migrate(db, []);
  });
  afterAll(async () => {
    await db.close();
  });

  const agents = (agentsSection: Record<string, unknown> = {}) =>
    resolveAgents(
      parseConfig(
        { homeserver: { url: "http://127.0.0.1:1", domain: "example.org" }, agents: agentsSection },
        {},
      ),
      AGENT_DEFINITIONS,
      {},
    );

  it("uploads each bundled image once, stores its mxc, and re-uses it after a restart", async () => {
    const hs = fakeHomeserver();
    const users = agents().map((a) => ({
      userId: a.userId,
      displayName: a.displayName,
      avatarUrl: a.avatarUrl,
      bundledAvatar: a.bundledAvatar,
    }));
    expect(users.map((u) => u.bundledAvatar?.replace(/.*assets/, "assets"))).toEqual([
      "assets/avatars/reminders.png",
      "assets/avatars/faq.png",
      "assets/avatars/timer.png",
    ]);
    await syncAgentUsers(hs.intents, users, db.knex);
    expect(hs.uploads.sort()).toEqual(["faq.png", "reminders.png", "timer.png"]);
    expect(hs.profiles.get("@_agent_reminders:example.org")?.avatar_url).toMatch(
      /^mxc:\/\/example\.org\/reminders\.png-\d$/,
    );
    // A restart: a fresh homeserver view, the same database.
    const again = fakeHomeserver();
    await syncAgentUsers(again.intents, users, db.knex);
    expect(again.uploads).toEqual([]);
    expect(again.profiles.get("@_agent_reminders:example.org")?.avatar_url).toBe(
      hs.profiles.get("@_agent_reminders:example.org")?.avatar_url,
    );
  });

  it("lets avatar_url in the config win", async () => {
    const hs = fakeHomeserver();
    const [reminders] = agents({ reminders: { avatar_url: "mxc://example.org/mine" } });
    expect(reminders.bundledAvatar).toBeUndefined();
    await syncAgentUsers(
      hs.intents,
      [
        {
          userId: reminders.userId,
          displayName: "R",
          avatarUrl: reminders.avatarUrl,
          bundledAvatar: reminders.bundledAvatar,
        },
      ],
      db.knex,
    );
    expect(hs.uploads).toEqual([]);
    expect(hs.profiles.get(reminders.userId)?.avatar_url).toBe("mxc://example.org/mine");
  });
});
