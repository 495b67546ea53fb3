import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { BridgeError } from "../errors";
import { secretsEqual } from "../appservice/hsTokenAuth";
import { HomeserverClient } from "../appservice/homeserverClient";
import type { BridgeConfig } from "../config/bridgeConfig";
import type { Registration } from "../appservice/registration";
import { FEED_FIELDS } from "./feeds";
import { HOMESERVER_LINES } from "./bridgeEncryption";
import { SELF_TEST_TYPE } from "./cryptoManager";
import { openDatabase } from "../store/database";

const WAIT_MS = 20_000;

/**
 * `doctor`: does the homeserver deliver the crypto feeds? The registration must ask for them, and
 * a to-device message from the bridge bot to an agent device must come back in a transaction
 * (answered here while the bridge is not running; a running bridge checks this itself at start-up).
 * No transaction at all is a warning, not a failure: Synapse backs off after failed pushes.
 */
export async function checkEncryptionFeeds(
  config: BridgeConfig,
  registration: Registration,
): Promise<string | { text: string; warn: true }> {
  if (!config.encryption.enabled)
    return "off (encryption.enabled: false): agents cannot read encrypted rooms";
  const missing = [
    registration.receive_ephemeral === true ? undefined : "receive_ephemeral: true",
    registration["org.matrix.msc3202"] === true ? undefined : "org.matrix.msc3202: true",
  ].filter((m) => m !== undefined);
  if (missing.length) {
    throw new BridgeError(
      "ENCRYPTION_FEEDS",
      `the registration does not ask for the crypto feeds (missing ${missing.join(", ")})`,
      "Regenerate it with generate-registration (or add the lines) and restart the homeserver",
    );
  }
  const device = await firstDevice(config);
  if (!device) {
    return {
      text: "the agents' encrypted devices do not exist yet: the bridge makes them, and checks the feeds itself, at its first start",
      warn: true,
    };
  }
  const nonce = randomUUID();
  let arrived = false;
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ") || !secretsEqual(auth.slice(7), registration.hs_token)) {
      res.writeHead(403).end('{"errcode":"M_FORBIDDEN"}');
      return;
    }
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      try {
        const txn = JSON.parse(body || "{}") as Record<string, unknown>;
        // Our message, or any transaction with the feed fields, shows the feeds are delivered.
        if (Object.values(FEED_FIELDS).some((names) => names.some((n) => txn[n] !== undefined)))
          arrived = true;
      } catch {
        // not a transaction
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(config.appservice.port, config.appservice.bind_address, () => resolve(true));
  });
  if (!listening) {
    return {
      text: "the bridge is running: it checks the feeds itself at start-up (see its log)",
      warn: true,
    };
  }
  try {
    const client = new HomeserverClient(config.homeserver.url, registration.as_token);
    // A homeserver that backs off after failed pushes (the bridge was down) retries now.
    await client.ping(config.appservice.id, `mab-doctor-${nonce}`).catch(() => undefined);
    await client.request("PUT", `/_matrix/client/v3/sendToDevice/${SELF_TEST_TYPE}/${nonce}`, {
      userId: `@${config.appservice.bot_localpart}:${config.homeserver.domain}`,
      body: { messages: { [device.user_id]: { [device.device_id]: { nonce } } } },
    });
    const deadline = Date.now() + WAIT_MS;
    while (!arrived && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  if (!arrived) {
    // Not proof of absence: a homeserver that backs off after failed pushes sends nothing for a while.
    return {
      text:
        "no transaction with to-device messages came within 20 s. If the homeserver lacks the switches, add to homeserver.yaml: " +
        `${HOMESERVER_LINES.join(" ")} and restart it; if it is backing off after an outage, run doctor again in a minute (the bridge checks this itself at start-up)`,
      warn: true,
    };
  }
  return "the homeserver delivers to-device messages to the bridge";
}

/** An agent device the bridge made (crypto_devices), if it ever ran with encryption. */
async function firstDevice(
  config: BridgeConfig,
): Promise<{ user_id: string; device_id: string } | undefined> {
  const db = await openDatabase(config.database);
  try {
    if (!(await db.knex.schema.hasTable("crypto_devices"))) return undefined;
    return (await db.knex("crypto_devices").select("user_id", "device_id").orderBy("user_id").first()) as
      { user_id: string; device_id: string } | undefined;
  } finally {
    await db.close();
  }
}
