import { editDistance, nearMisses, rankEntries, tolerance, words } from "../../../src/agents/faq/fuzzy";

describe("edit distance (optimal string alignment)", () => {
  it.each([
    ["", "", 0],
    ["wifi", "wifi", 0],
    ["wifi", "wfi", 1], // deletion
    ["wifi", "wiifi", 1], // insertion
    ["wifi", "wofi", 1], // substitution
    ["wifi", "wfii", 1], // transposition
    ["kitten", "sitting", 3],
    ["", "abc", 3],
    ["printer", "pritner", 1],
    ["straße", "strasse", 2],
    ["😀a", "a😀", 1], // code points, not UTF-16 units
  ])("%j ↔ %j = %d", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it("stops early past the limit", () => {
    expect(editDistance("abcdefgh", "zyxwvuts", 2)).toBe(3);
    expect(editDistance("a", "abcdef", 2)).toBe(3);
  });

  it("tolerates more edits in longer keys, none in tiny ones", () => {
    expect([tolerance("ab"), tolerance("wifi"), tolerance("printer"), tolerance("documentation")]).toEqual([
      0, 1, 2, 3,
    ]);
  });
});

describe("near misses", () => {
  const keys = ["wifi", "printer", "parking", "vpn", "password", "wlan"];
  it("finds the closest keys, best first", () => {
    expect(nearMisses("wfi", keys).map((s) => s.key)).toEqual(["wifi"]);
    expect(nearMisses("pritner", keys)[0]).toEqual({ key: "printer", distance: 1 });
    expect(nearMisses("pass", keys).map((s) => s.key)).toContain("password");
  });
  it("finds nothing for unrelated words and exact hits", () => {
    expect(nearMisses("lunch", keys)).toEqual([]);
    expect(nearMisses("wifi", keys).map((s) => s.key)).not.toContain("wifi");
    expect(nearMisses("xy", keys)).toEqual([]);
  });
});

describe("search ranking", () => {
  const entries = [
    {
      key: "printer",
      displayKey: "printer",
      answer: "The printer is in room 2. If paper jams, open tray 2.",
    },
    { key: "wifi", displayKey: "WiFi", answer: "Network *office*, password on the printer." },
    { key: "jam", displayKey: "jam", answer: "Jam sessions are on Fridays." },
    { key: "lunch", displayKey: "lunch", answer: "Canteen opens at noon." },
  ];
  it("ranks key hits over answer hits and full matches first", () => {
    expect(rankEntries(entries, "printer", 5).map((e) => e.key)).toEqual(["printer", "wifi"]);
    expect(rankEntries(entries, "printer jam", 5).map((e) => e.key)[0]).toBe("printer");
    expect(rankEntries(entries, "canteen", 5).map((e) => e.key)).toEqual(["lunch"]);
  });
  it("finds words by prefix and typo, respects the limit, and ignores no-hit entries", () => {
    expect(rankEntries(entries, "cant", 5).map((e) => e.key)).toEqual(["lunch"]);
    expect(rankEntries(entries, "pritner", 5).map((e) => e.key)[0]).toBe("printer");
    expect(rankEntries(entries, "paper network", 1)).toHaveLength(1);
    expect(rankEntries(entries, "zebra", 5)).toEqual([]);
  });
  it("splits words on anything but letters and digits", () => {
    expect(words("Wi-Fi, **now**!")).toEqual(["wi", "fi", "now"]);
  });
});
