import { keepYoungGenerationSmall } from "../../src/cli/leanHeap";

describe("keepYoungGenerationSmall", () => {
  it("keeps the heap near its live size, unless the operator sized it", () => {
    const set: string[] = [];
    expect(keepYoungGenerationSmall([], "", (f) => set.push(f))).toBe(true);
    expect(set).toEqual(["--semi-space-growth-factor=1", "--heap-growing-percent=25"]);
    for (const [argv, options] of [
      [["--max-semi-space-size=8"], ""],
      [[], "--max-old-space-size=512 --max-semi-space-size=4"],
      [[], "--semi-space-growth-factor=2"],
      [["--min-semi-space-size=2"], ""],
      [[], "--heap-growing-percent=50"],
    ] as const) {
      const calls: string[] = [];
      expect(keepYoungGenerationSmall(argv, options, (f) => calls.push(f))).toBe(false);
      expect(calls).toEqual([]);
    }
  });

  it("is a flag V8 takes at run time: the new space stays at its first size", () => {
    // In a child process, so this test runner's own heap is left alone.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
    const code = `
      require("node:v8").setFlagsFromString("--semi-space-growth-factor=1");
      let keep = [];
      for (let i = 0; i < 2e6; i++) { const o = { i, s: "x" + i }; if (i % 3 === 0) keep.push(o); if (keep.length > 20000) keep = []; }
      const ns = require("node:v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
      process.stdout.write(String(ns.space_size));`;
    const out = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 60_000 });
    expect(out.status).toBe(0);
    // Node's default lets it grow to 32 MB under this load; held at the initial 2 × 1 MB.
    expect(Number(out.stdout)).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
