import { faqAgent } from "../../src/agents/faq";
import { FaqStore, GLOBAL } from "../../src/agents/faq/store";
import type { Database } from "../../src/store/database";
import { AgentHarness } from "../unit/faq/agentHarness";
import { backendCases, closeTestDatabase } from "./databases";

const MOD = "@mod:test";
const USER = "@user:test";
const ADMIN = "@admin:test";

describe.each(backendCases())("FAQ agent on %s", (_name, backend) => {
  let db: Database;
  let h: AgentHarness;
  let room: string;
  let n = 0;
  beforeAll(async () => {
    db = await backend.open();
    h = await AgentHarness.create(faqAgent, {
      db,
      admins: [ADMIN],
      config: { max_entries: 6, max_key_length: 20 },
    });
  });
  afterAll(async () => {
    await closeTestDatabase(db);
  });
  beforeEach(() => {
    room = `!room${++n}:test`;
    h.setPower(room, MOD, 50);
  });
  const say = (who: string, text: string, where = room) => h.say(who, where, text);

  it("saves an entry and answers it case- and whitespace-insensitively, Markdown intact", async () => {
    expect(await say(MOD, "set Guest WiFi ignored")).toMatch(/^Saved \*\*Guest\*\*/);
    expect(await say(MOD, 'set "Guest WiFi" Network **guest**\n\n- ask the desk')).toBe(
      "Saved **Guest WiFi**.",
    );
    expect(await say(USER, "guest wifi")).toBe("Network **guest**\n\n- ask the desk");
    expect(await say(USER, "GUESTWIFI")).toBe("Network **guest**\n\n- ask the desk");
    expect(await say(USER, "get  Guest   Wifi")).toBe("Network **guest**\n\n- ask the desk");
    expect(await say(MOD, 'set "guest   wifi" v2')).toMatch(/^Updated \*\*guest wifi\*\* \(version 2/);
  });

  it("refuses edits below the power level and changes nothing", async () => {
    expect(await say(USER, "set wifi hacked")).toBe(
      "Sorry, editing this room's FAQ needs power level 50 (yours is 0). Ask a moderator, or a bridge admin.",
    );
    await say(MOD, "set wifi real");
    for (const cmd of [
      "set wifi hacked",
      "delete wifi",
      "alias w wifi",
      "revert wifi 1",
      'import {"a":"b"}',
      "export",
    ]) {
      expect(await say(USER, cmd)).toMatch(/needs power level 50 \(yours is 0\)/);
    }
    expect(await say(USER, "wifi")).toBe("real");
    expect(await new FaqStore(db.knex).count(room)).toBe(1);
    expect(await say(ADMIN, "set wifi by admin")).toMatch(/^Updated/); // bridge admin, power 0
  });

  it("keeps global entries to bridge admins; room entries win over them", async () => {
    expect(await say(MOD, "set --global vpn nope")).toBe("Only bridge admins can change global FAQ entries.");
    expect(await say(ADMIN, "set --global vpn Use **WireGuard**")).toBe("Saved global entry **vpn**.");
    expect(await say(USER, "vpn")).toBe("Use **WireGuard**");
    expect(await say(USER, "vpn", "!elsewhere:test")).toBe("Use **WireGuard**");
    expect(await say(MOD, "set vpn Ask Bob")).toBe("Saved **vpn**. It overrides the global entry here.");
    expect(await say(USER, "vpn")).toBe("Ask Bob");
    expect(await say(USER, "vpn", "!elsewhere:test")).toBe("Use **WireGuard**");
    expect(await say(MOD, "delete vpn")).toMatch(/^Deleted \*\*vpn\*\*/);
    expect(await say(USER, "vpn")).toBe("Use **WireGuard**");
    expect(await say(MOD, "delete vpn")).toMatch(
      /global entry; bridge admins delete it with `!faq delete --global vpn`/,
    );
    expect(await say(ADMIN, "delete --global vpn")).toMatch(/^Deleted global entry \*\*vpn\*\*/);
    expect(await say(USER, "vpn")).toMatch(/I don't know \*\*vpn\*\* yet/);
  });

  it("answers near misses with did-you-mean", async () => {
    await say(MOD, "set printer Room 2");
    await say(MOD, "set parking Level -1");
    await say(MOD, "set parcel At the desk");
    expect(await say(USER, "pritner")).toBe("Did you mean **printer**?\n\nRoom 2");
    expect(await say(USER, "parkng")).toBe("Did you mean **parking**?\n\nLevel -1");
    expect(await say(USER, "parc")).toMatch(/^Did you mean \*\*parcel\*\*/);
    expect(await say(USER, "parkin")).toBe("Did you mean **parking**?\n\nLevel -1");
    expect(await say(USER, "parxxl")).toBe("Did you mean **parcel**?\n\nAt the desk"); // 2 edits, unique best
    await say(MOD, "set pointer Mouse");
    expect(await say(USER, "pqinter")).toBe("Did you mean **pointer**, **printer**?"); // a tie: no answer
    expect(await say(USER, "lunch")).toMatch(/I don't know \*\*lunch\*\* yet/);
  });

  it("lists room and global entries with aliases, and searches them ranked", async () => {
    expect(await say(USER, "list")).toMatch(/No FAQ entries yet/);
    await say(MOD, "set printer The printer is in room 2; if paper jams open tray 2.");
    await say(MOD, "set wifi Password is on the printer.");
    await say(MOD, "set lunch The canteen opens at noon.");
    await say(MOD, "alias drucker printer");
    await say(ADMIN, "set --global holidays See the HR wiki.");
    expect(await say(USER, "list")).toBe(
      "Entries in this room (3): **lunch**, **printer** (also drucker), **wifi**\n\nGlobal entries (1): **holidays**",
    );
    const hits = await say(USER, "search printer paper");
    expect(hits.split("\n")).toEqual([
      "Results for “printer paper”:",
      "1. **printer**: The printer is in room 2; if paper jams open tray 2.",
      "2. **wifi**: Password is on the printer.",
    ]);
    expect(await say(USER, "search drucker")).toMatch(/1\. \*\*printer\*\*/);
    expect(await say(USER, "search canteen")).toMatch(/1\. \*\*lunch\*\*/);
    expect(await say(USER, "search hr wiki")).toMatch(/1\. \*\*holidays\*\*/);
    expect(await say(USER, "search zebra")).toMatch(/Nothing matches/);
    await say(ADMIN, "delete --global holidays");
  });

  it("aliases: answer like their entry, cannot shadow entries, go with the entry", async () => {
    await say(MOD, "set wifi Net");
    expect(await say(MOD, "alias wlan wifi")).toBe("**wlan** now answers like **wifi**.");
    expect(await say(MOD, "alias wireless wlan")).toBe("**wireless** now answers like **wifi**.");
    expect(await say(USER, "WLAN")).toBe("Net");
    expect(await say(USER, "wireless")).toBe("Net");
    expect(await say(MOD, "alias wifi wifi")).toMatch(/different from its entry/);
    await say(MOD, "set other x");
    expect(await say(MOD, "alias other wifi")).toMatch(/already an entry/);
    expect(await say(MOD, "alias x nothing")).toMatch(/no entry \*\*nothing\*\*/);
    expect(await say(MOD, "set wlan y")).toMatch(/is an alias of \*\*wifi\*\*/);
    expect(await say(MOD, "delete wireless")).toBe("Removed the alias **wireless** (of **wifi**).");
    expect(await say(MOD, "delete wifi")).toBe(
      "Deleted **wifi** (and its aliases wlan). `!faq revert` can bring it back.",
    );
    expect(await say(USER, "wlan")).toMatch(/I don't know/);
  });

  it("records every change with who and when; revert restores any version", async () => {
    await db
      .knex("user_prefs")
      .insert({ user_id: USER, timezone: "Europe/Berlin" })
      .onConflict("user_id")
      .merge();
    h.setPower(room, "@other:test", 100);
    await say(MOD, "set wifi one");
    h.advance(60_000);
    await say("@other:test", "set wifi two");
    h.advance(60_000);
    await say(MOD, "delete wifi");
    const history = await say(USER, "history wifi");
    expect(history.split("\n")).toEqual([
      "History of **wifi**, times in Europe/Berlin:",
      expect.stringMatching(/^1\. 2025-03-\d\d \d\d:\d\d: @mod:test set it: “one”$/),
      expect.stringMatching(/^2\. .*: @other:test set it: “two”$/),
      expect.stringMatching(/^3\. .*: @mod:test deleted it$/),
      "",
      "`!faq revert wifi <n>` brings back version n.",
    ]);
    expect(history).toContain("13:0"); // 12:0x UTC shown as Berlin time
    expect(await say(MOD, "revert wifi 3")).toBe("Version 3 of **wifi** has no text (it was a delete).");
    expect(await say(MOD, "revert wifi 9")).toBe("**wifi** has no version 9 (it has 1 to 3).");
    expect(await say(MOD, "revert wifi 1")).toBe("Reverted **wifi** to version 1 (saved as version 4).");
    expect(await say(USER, "wifi")).toBe("one");
    expect(await say(MOD, "revert wifi 1")).toMatch(/already has the text of version 1/);
    expect(await say(USER, "history wifi")).toMatch(
      /4\. .*@mod:test reverted it to version 1: “one” \*\(current\)\*/,
    );
    expect(await say(USER, "history nothing")).toMatch(/There is no history for \*\*nothing\*\*/);
  });

  it("enforces limits on keys, answers and entries with clear errors", async () => {
    expect(await say(MOD, `set ${"k".repeat(21)} x`)).toBe(
      "The key is too long (21 characters; the limit is 20).",
    );
    expect(await say(MOD, "set list x")).toMatch(/command word/);
    expect(await say(MOD, "set **x** y")).toMatch(/letters, digits/);
    for (let i = 1; i <= 6; i++) await say(MOD, `set k${i} v`);
    expect(await say(MOD, "set k7 v")).toBe("This room has 6 entries; the limit is 6. Delete some first.");
    expect(await say(MOD, "set k1 changed")).toMatch(/^Updated/); // changing is fine at the limit
  });

  it("exports a room as JSON and imports it elsewhere, all or nothing", async () => {
    await say(MOD, "set wifi Net **x** ```code```");
    await say(MOD, "set printer Room 2");
    await say(MOD, "alias wlan wifi");
    const exported = await say(MOD, "export");
    expect(exported).toMatch(/^2 entries; `!faq import` takes this back:\n\n````json\n/);
    const target = `!import${n}:test`;
    h.setPower(target, MOD, 50);
    expect(await say(MOD, `import ${exported}`, target)).toBe(
      "Imported 2 entries: 2 new, 0 changed, 0 unchanged.",
    );
    expect(await say(USER, "wlan", target)).toBe("Net **x** ```code```");
    expect(await say(MOD, `import ${exported}`, target)).toBe(
      "Imported 2 entries: 0 new, 0 changed, 2 unchanged.",
    );
    expect(await say(MOD, 'import {"wifi": "New", "a b": "c"}', target)).toMatch(/1 new, 1 changed/);
    expect(await say(MOD, "import not json", target)).toMatch(/^That is not valid JSON/);
    expect(await say(MOD, 'import {"entries": [{"key": "x"}]}', target)).toBe(
      'Entry 1 needs a text "key" and a text "answer".',
    );
    const bad = await say(
      MOD,
      'import {"good": "yes", "list": "reserved", "bad": "[a](data:image/png;base64,x)"}',
      target,
    );
    expect(bad).toMatch(
      /^Nothing was imported:\n- list: .*command word.*\n- bad: Links in answers may only use/,
    );
    expect(await say(USER, "good", target)).toMatch(/I don't know/);
    expect(await say(MOD, "export", "!empty:test")).toMatch(/needs power level/);
  });

  it("follows a room upgrade: entries, aliases, history and settings move; the new room's own win", async () => {
    const next = `!next${n}:test`;
    await say(MOD, "set wifi old-room");
    await say(MOD, "set printer Room 2");
    await say(MOD, "alias wlan wifi");
    await say(MOD, "shortcut off");
    h.setPower(next, MOD, 50);
    await say(MOD, "set printer already here", next);
    await h.upgrade(room, next);
    await h.upgrade(room, next); // a repeated tombstone changes nothing
    expect(await say(USER, "wlan", next)).toBe("old-room");
    expect(await say(USER, "printer", next)).toBe("already here");
    expect(await say(USER, "history wifi", next)).toMatch(/1\. .*@mod:test set it: “old-room”/);
    expect(await say(USER, "shortcut", next)).toMatch(/is off in this room/);
    const store = new FaqStore(db.knex);
    expect((await store.entries(next)).map((e) => e.key)).toEqual(["printer", "wifi"]);
    expect((await store.entries(room)).map((e) => e.key)).toEqual(["printer"]);
  });

  it("stores text PostgreSQL cannot hold as U+FFFD instead of failing", async () => {
    expect(await say(MOD, "set nul a\u0000b")).toBe("Saved **nul**.");
    expect(await say(USER, "nul")).toBe("a\uFFFDb");
  });

  it("numbers history per scope and key", async () => {
    const store = new FaqStore(db.knex);
    const at = new Date();
    expect((await store.put(GLOBAL, "numbered", "numbered", "a", ADMIN, at)).n).toBe(1);
    expect((await store.put(room, "numbered", "numbered", "a", MOD, at)).n).toBe(1);
    expect((await store.put(GLOBAL, "numbered", "numbered", "b", ADMIN, at)).n).toBe(2);
    expect((await store.history(GLOBAL, "numbered")).map((r) => [r.n, r.answer])).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
    await store.remove(GLOBAL, "numbered", ADMIN, at);
  });
});
