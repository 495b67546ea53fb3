import { displayKey, keyProblem, normalizeKey, splitKey, takeGlobalFlag } from "../../../src/agents/faq/keys";
import { parseFaqCommand } from "../../../src/agents/faq/parse";

describe("FAQ key normalisation", () => {
  it.each([
    ["wifi", "wifi"],
    ["WiFi", "wifi"],
    ["  Wi Fi ", "wifi"],
    ["wi\tfi\n", "wifi"],
    ["?wifi", "wifi"],
    ["wifi?", "wifi"],
    ["Ｗｉｆｉ", "wifi"], // full-width letters (NFKC)
    ["Straße", "straße"],
    ["ÄRGER", "ärger"],
    ["c++", "c++"],
  ])("%j → %j", (raw, key) => {
    expect(normalizeKey(raw)).toBe(key);
  });

  it("keeps the spelling for display, tidied", () => {
    expect(displayKey("  Guest   WiFi? ")).toBe("Guest WiFi");
  });

  it.each([
    ["", /empty/],
    ["?", /empty/],
    ["x".repeat(49), /too long \(49 characters; the limit is 48\)/],
    ["*bold*", /letters, digits/],
    ["<script>", /letters, digits/],
    ["`code`", /letters, digits/],
    ["[link](x)", /letters, digits/],
    ["list", /command word/],
    ["SEARCH", /command word/],
  ])("refuses key %j", (raw, message) => {
    expect(keyProblem(raw, 48)).toMatch(message);
  });

  it.each(["wifi", "guest wifi", "c++", "v1.2", "o'clock", "a/b", "ärger", "日本"])(
    "accepts key %j",
    (raw) => {
      expect(keyProblem(raw, 48)).toBeUndefined();
    },
  );

  it("splits the key from the answer, keeping line breaks; quotes allow spaces", () => {
    expect(splitKey("wifi The password\nis **x**")).toEqual({ key: "wifi", rest: "The password\nis **x**" });
    expect(splitKey('"guest wifi" ask the desk')).toEqual({ key: "guest wifi", rest: "ask the desk" });
    expect(splitKey("“guest wifi” ask")).toEqual({ key: "guest wifi", rest: "ask" });
    expect(splitKey("   ")).toBeUndefined();
  });

  it("takes --global and -g flags", () => {
    expect(takeGlobalFlag("--global vpn x")).toEqual({ global: true, rest: "vpn x" });
    expect(takeGlobalFlag("-g vpn")).toEqual({ global: true, rest: "vpn" });
    expect(takeGlobalFlag("vpn --global")).toEqual({ global: false, rest: "vpn --global" });
  });
});

describe("FAQ command parsing", () => {
  it.each([
    ["wifi", { kind: "get", key: "wifi", shortcut: false }],
    ["wifi password", { kind: "get", key: "wifi password", shortcut: false }],
    ["?wifi", { kind: "get", key: "wifi", shortcut: true }],
    ["?Guest WiFi", { kind: "get", key: "Guest WiFi", shortcut: true }],
    ["get wifi", { kind: "get", key: "wifi", shortcut: false }],
    ["set wifi It is **x**", { kind: "set", key: "wifi", answer: "It is **x**", global: false }],
    ["set --global vpn Use it", { kind: "set", key: "vpn", answer: "Use it", global: true }],
    ["delete wifi", { kind: "delete", key: "wifi", global: false }],
    ["delete --global vpn", { kind: "delete", key: "vpn", global: true }],
    ["alias wlan wifi", { kind: "alias", alias: "wlan", target: "wifi", global: false }],
    ["list", { kind: "list" }],
    ["search printer jam", { kind: "search", text: "printer jam" }],
    ["history wifi", { kind: "history", key: "wifi", global: false }],
    ["revert wifi 2", { kind: "revert", key: "wifi", n: 2, global: false }],
    ["revert guest wifi to #3", { kind: "revert", key: "guest wifi", n: 3, global: false }],
    ["shortcut off", { kind: "shortcut", enabled: false }],
    ["shortcut on", { kind: "shortcut", enabled: true }],
    ["shortcut", { kind: "shortcut" }],
    ["export", { kind: "export", global: false }],
    ['import {"a":"b"}', { kind: "import", json: '{"a":"b"}', global: false }],
  ])("%j", (args, expected) => {
    expect(parseFaqCommand(args)).toEqual(expected);
  });

  it.each(["?", "? what", "??", "?\nwifi", ""])("ignores %j", (args) => {
    expect(parseFaqCommand(args)).toBeUndefined();
  });

  it.each([
    ["set wifi", /Usage: `!faq set/],
    ["set", /Usage: `!faq set/],
    ["alias wlan", /Usage: `!faq alias/],
    ["revert wifi", /Usage: `!faq revert/],
    ["shortcut maybe", /Usage: `!faq shortcut/],
    ["search", /Usage: `!faq search/],
  ])("explains usage for %j", (args, message) => {
    const cmd = parseFaqCommand(args);
    expect(cmd?.kind).toBe("usage");
    expect(cmd && "message" in cmd ? cmd.message : "").toMatch(message);
  });
});
