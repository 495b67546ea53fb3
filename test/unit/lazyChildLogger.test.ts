import { Writable } from "node:stream";
import { configureLogging, lazyChild } from "../../src/logging/logger";

describe("lazyChild", () => {
  it("makes the child logger only when something logs, then logs with its bindings", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const parent = configureLogging({ level: "info", format: "json" }, sink);
    const child = jest.spyOn(parent, "child");
    const log = lazyChild(parent, { agent: "echo", eventId: "$e1" });
    expect(child).not.toHaveBeenCalled();
    log.info("first");
    log.warn("second");
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { agent: "echo", eventId: "$e1", msg: "first" },
      { agent: "echo", eventId: "$e1", msg: "second" },
    ]);
  });
});
