/**
 * Jest globalSetup for the end-to-end project: make sure the pinned Synapse is installed
 * (a cached venv outside the repository) before any suite starts one. Fails loudly, never skips.
 */
import { ensureSynapse, synapseVenvDir, SYNAPSE_VERSION } from "./synapseInstall";

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const { python } = await ensureSynapse();
  const ms = Date.now() - started;
  process.stdout.write(
    `\n[e2e] Synapse ${SYNAPSE_VERSION} ready in ${ms} ms (venv ${synapseVenvDir()}, python ${python})\n`,
  );
}
