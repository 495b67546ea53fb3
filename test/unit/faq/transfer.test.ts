import { contentBytes, exportDocuments, parseImport, EXPORT_FORMAT } from "../../../src/agents/faq/transfer";
import type { Alias, Entry } from "../../../src/agents/faq/store";

const entry = (key: string, answer: string): Entry => ({
  scope: "!r:test",
  key: key.toLowerCase(),
  displayKey: key,
  answer,
  version: 1,
  updatedBy: "@mod:test",
  updatedAt: new Date(0),
});
const alias = (name: string, target: string): Alias => ({
  scope: "!r:test",
  alias: name,
  displayAlias: name,
  target,
});

describe("FAQ export and import", () => {
  it("exports one JSON document in a code block, aliases included, and imports it back", () => {
    const docs = exportDocuments(
      [entry("WiFi", "Net **x**"), entry("printer", "Room 2")],
      [alias("wlan", "wifi")],
    );
    expect(docs).toHaveLength(1);
    expect(docs[0].startsWith("```json\n{")).toBe(true);
    expect(parseImport(docs[0])).toEqual([
      { key: "WiFi", answer: "Net **x**", aliases: ["wlan"] },
      { key: "printer", answer: "Room 2" },
    ]);
    expect(JSON.parse(docs[0].slice(8, -4))).toMatchObject({ format: EXPORT_FORMAT, version: 1 });
  });

  it("splits large exports so each message stays below the event size limit, even after HTML escaping", () => {
    // Quotes and angle brackets grow 4-6 times when escaped into the HTML body.
    const nasty = `"<&>"`.repeat(800);
    const entries = Array.from({ length: 60 }, (_, i) => entry(`k${i}`, nasty));
    const docs = exportDocuments(entries, []);
    expect(docs.length).toBeGreaterThan(1);
    const back = docs.flatMap((d) => {
      expect(contentBytes(d)).toBeLessThanOrEqual(48_000);
      const parsed = parseImport(d);
      if (typeof parsed === "string") throw new Error(parsed);
      return parsed;
    });
    expect(back.map((e) => e.key)).toEqual(entries.map((e) => e.displayKey));
    expect(back.every((e) => e.answer === nasty)).toBe(true);
  });

  it("accepts a list of entries or a plain key→answer object, pasted with text around the fence", () => {
    expect(parseImport('[{"key": "a", "answer": "b"}]')).toEqual([{ key: "a", answer: "b" }]);
    expect(parseImport('{"a": "b", "c": "d"}')).toEqual([
      { key: "a", answer: "b" },
      { key: "c", answer: "d" },
    ]);
    expect(parseImport('Here:\n```json\n{"a": "b"}\n```\nthanks')).toEqual([{ key: "a", answer: "b" }]);
  });

  it.each([
    ["not json", /^That is not valid JSON/],
    ["42", /^Expected/],
    ['{"a": 1}', /^Expected/],
    ['{"entries": [{"key": "a"}]}', /^Entry 1 needs a text "key" and a text "answer"\.$/],
    ['{"entries": [{"key": "a", "answer": "b", "aliases": "c"}]}', /^Entry 1: "aliases" must be a list/],
  ])("explains what is wrong with %j", (input, message) => {
    expect(parseImport(input)).toMatch(message);
  });
});
