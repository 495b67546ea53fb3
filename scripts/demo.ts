import { BridgeFixture } from "../test/harness/bridgeFixture";
import { ensureSynapse } from "../test/harness/synapseInstall";
import { say } from "../src/cli/output";

/**
 * `npm run demo`: a throwaway Synapse on loopback, the bridge on the embedded database, and
 * a user to log in with. Everything is deleted on Ctrl-C.
 */
async function main(): Promise<void> {
  say("Preparing Synapse (the first run installs it into a cached virtualenv; this can take a minute)…");
  await ensureSynapse();
  const fixture = await BridgeFixture.create({
    logLevel: process.env.MAB_LOGGING_LEVEL ?? "info",
    // The real agents only (the fixture turns the diagnostic echo agent on for tests).
    config: { agents: { echo: { enabled: false } } },
  });
  const bridge = await fixture.startBridge();
  const password = `demo-${Math.random().toString(36).slice(2, 10)}`;
  const user = await fixture.synapse.registerUser("demo", password, false);
  // Greet the demo user from the Reminders agent (or the first one): an is_direct invite and the Agents space.
  const firstAgent = bridge.agents.find((a) => a.id === "reminders") ?? bridge.agents[0];
  if (firstAgent) await bridge.openDm(firstAgent.id, user.userId);

  say("");
  say("matrix-agent-bridge is running.");
  say(`  Homeserver URL : ${fixture.synapse.baseUrl}`);
  say(`  Log in as      : ${user.userId}   password: ${password}`);
  say(`  Agents to DM   : ${bridge.agents.map((a) => a.userId).join(", ")}`);
  say(`  Agents space   : ${bridge.spaceId} (public; your personal "Agents" space invite is waiting)`);
  say(
    bridge.encryptionActive
      ? "  Encryption     : on — a DM from Element X (always encrypted) works; each agent is a cross-signed device"
      : "  Encryption     : OFF (see the bridge's warning above)",
  );
  say("  Any Matrix client works (Element: 'Sign in' → 'Edit' homeserver → the URL above).");
  say("Press Ctrl-C to stop and delete everything.");

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  say("Stopping…");
  await fixture.close();
}

main().catch((err) => {
  process.stderr.write(`Demo failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
