import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { SYNAPSE_VERSION } from "../../test/harness/synapseInstall";
import { repoRoot } from "./paths";
import { postgresVersion } from "./pg";

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  kernel: string;
  node: string;
  synapse: string;
  postgres: string;
  pglite: string;
  matrixAppserviceBridge: string;
  /** 1-minute load average when the run started (other work on the machine). */
  loadAverageAtStart: number;
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(repoRoot(), "node_modules", name, "package.json"), "utf8"));
    return String(pkg.version);
  } catch {
    return "unknown";
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model?.trim() ?? "unknown",
    memoryGB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    synapse: SYNAPSE_VERSION,
    postgres: await postgresVersion().catch((err: Error) => `unreachable (${err.message})`),
    pglite: packageVersion("@electric-sql/pglite"),
    matrixAppserviceBridge: packageVersion("matrix-appservice-bridge"),
    loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100,
  };
}
