import { main } from "../../src/cli/index";

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = jest.spyOn(process.stdout, "write").mockImplementation((c) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((c) => ((err += String(c)), true));
  try {
    return { code: await main(["node", "matrix-agent-bridge", ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
