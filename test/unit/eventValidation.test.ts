import {
  validateEvent,
  validateEvents,
  exceedsDepth,
  MAX_EVENT_BYTES,
} from "../../src/appservice/eventValidation";
import { EventTriage } from "../../src/appservice/eventTriage";
import type { MatrixEvent } from "../../src/agents/types";

const good = (over: Record<string, unknown> = {}) => ({
  event_id: "$abc:example.org",
  room_id: "!room:example.org",
  type: "m.room.message",
  sender: "@alice:example.org",
  content: { msgtype: "m.text", body: "hi" },
  ...over,
});

function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < levels; i++) v = { v };
  return v;
}

describe("validation at the door", () => {
  it("accepts an ordinary event unchanged", () => {
    const e = good();
    const r = validateEvent(e);
    expect(r).toEqual({ ok: true, event: e });
  });

  it.each([
    ["content nested 5,000 levels", good({ content: nested(5000) }), "too_deep"],
    ["an empty event_id", good({ event_id: "" }), "bad_event_id"],
    ["a missing event_id", good({ event_id: undefined }), "bad_event_id"],
    ["an event_id with U+0000", good({ event_id: "$a\u0000b" }), "bad_event_id"],
    ["an event_id with a lone surrogate", good({ event_id: "$a\ud800b" }), "bad_event_id"],
    ["an event_id of 300 characters", good({ event_id: "$" + "x".repeat(299) }), "bad_event_id"],
    ["an event_id without $", good({ event_id: "abc" }), "bad_event_id"],
    ["a numeric room_id", good({ room_id: 5 }), "bad_room_id"],
    ["a sender that is not a user id", good({ sender: "alice" }), "bad_sender"],
    ["a type with a newline", good({ type: "m.room\n.message" }), "bad_type"],
    ["a state_key that is a number", good({ state_key: 1 }), "bad_state_key"],
    ["content that is a list", good({ content: [] }), "bad_content"],
    ["no content", good({ content: undefined }), "bad_content"],
    ["a huge event", good({ content: { body: "x".repeat(MAX_EVENT_BYTES) } }), "too_large"],
  ])("rejects %s", (_what, event, reason) => {
    const r = validateEvent(event);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.reason).toBe(reason);
  });

  it("rejects non-objects without throwing", () => {
    for (const v of [null, 1, "x", [], undefined]) expect(validateEvent(v).ok).toBe(false);
  });

  it("never merges two ids that a cleanup would have made equal: both are refused", () => {
    const { events, rejected } = validateEvents([
      good({ event_id: "$a\u0000" }),
      good({ event_id: "$a\ud800" }),
      good({ event_id: "$a\ufffd" }),
    ]);
    expect(events.map((e) => e.event_id)).toEqual(["$a\ufffd"]);
    expect(rejected.map((r) => r.reason)).toEqual(["bad_event_id", "bad_event_id"]);
  });

  it("measures depth iteratively (no stack overflow) and stops early", () => {
    expect(exceedsDepth(nested(200_000), 32)).toBe(true);
    expect(exceedsDepth({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(exceedsDepth({ a: [1, { b: {} }] }, 3)).toBe(true);
  });
});

describe("triage: which events need handling", () => {
  const triage = new EventTriage(
    [
      { userId: "@_agent_faq:x", displayName: "FAQ", command: "faq", shortcutPrefix: "?" },
      { userId: "@_agent_reminders:x", displayName: "Reminders", command: "remind" },
    ],
    "@agentbridge:x",
  );
  triage.noteRoom("!group:x", false);
  triage.noteRoom("!dm:x", true);
  const msg = (body: string, extra: Partial<MatrixEvent> = {}, content: Record<string, unknown> = {}) =>
    ({
      ...good({ room_id: "!group:x" }),
      ...extra,
      content: { msgtype: "m.text", body, ...content },
    }) as MatrixEvent;

  it.each([
    ["ordinary chat in a group room", msg("lunch anyone?")],
    ["our own echo", msg("!remind list", { sender: "@_agent_faq:x" })],
    ["a topic change", { ...good({ type: "m.room.topic", state_key: "" }) } as unknown as MatrixEvent],
    ["a question mark inside a sentence", msg("really? ok")],
  ])("inert: %s", (_w, e) => expect(triage.isInert(e)).toBe(true));

  it.each([
    ["a command word", msg("!remind in 5m tea")],
    ["!help", msg("!help")],
    ["a shortcut", msg("?wifi")],
    ["an agent's name", msg("Reminders: list")],
    ["a mention", msg("hey", {}, { "m.mentions": { user_ids: ["@_agent_faq:x"] } })],
    ["a pill in the body", msg("hey @_agent_reminders:x list")],
    ["a reply carrying a command", msg("> <@bob:x> lunch\n\n!remind in 2 hours")],
    ["an edit", msg("* fixed", {}, { "m.relates_to": { rel_type: "m.replace", event_id: "$o" } })],
    ["any message in a DM", msg("in 10 minutes stretch", { room_id: "!dm:x" })],
    ["a message in a room not seen yet", msg("hello", { room_id: "!new:x" })],
    ["an encrypted event", { ...good({ type: "m.room.encrypted" }) } as unknown as MatrixEvent],
    ["a reaction", { ...good({ type: "m.reaction" }) } as unknown as MatrixEvent],
    [
      "a member event, even ours",
      {
        ...good({ type: "m.room.member", state_key: "@_agent_faq:x", sender: "@_agent_faq:x" }),
      } as unknown as MatrixEvent,
    ],
    ["a tombstone", { ...good({ type: "m.room.tombstone", state_key: "" }) } as unknown as MatrixEvent],
  ])("handled: %s", (_w, e) => expect(triage.isInert(e)).toBe(false));
});
