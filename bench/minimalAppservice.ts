/**
 * The smallest appservice that can answer a DM: the reference of the latency figure. It receives
 * a transaction, answers it 200, and for each message someone else wrote: one members lookup
 * (`GET /joined_members`, as any bot checks who it talks to) and one send of an `m.notice` in
 * reply. No store, no queue, no device, no library: node:http and fetch with a keep-alive agent.
 * It joins the rooms it is invited to. Run as its own process by bench/latency.ts:
 *   node dist/bench/minimalAppservice.js '<json: {port, homeserverUrl, asToken, hsToken, userId}>'
 */
import { createServer, type IncomingMessage } from "node:http";
import { randomUUID } from "node:crypto";

interface Options {
  port: number;
  homeserverUrl: string;
  asToken: string;
  hsToken: string;
  userId: string;
}

interface Event {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  state_key?: string;
  content?: { membership?: string; body?: string };
}

const opts = JSON.parse(process.argv[2] ?? "{}") as Options;

async function hs(method: string, path: string, body?: unknown): Promise<unknown> {
  const sep = path.includes("?") ? "&" : "?";
  const res = await fetch(`${opts.homeserverUrl}${path}${sep}user_id=${encodeURIComponent(opts.userId)}`, {
    method,
    headers: { authorization: `Bearer ${opts.asToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok && !(res.status === 400 && (json as { errcode?: string }).errcode === "M_USER_IN_USE")) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

const room = (id: string) => encodeURIComponent(id);

async function handle(ev: Event): Promise<void> {
  if (ev.sender === opts.userId) return;
  if (ev.type === "m.room.member" && ev.state_key === opts.userId && ev.content?.membership === "invite") {
    await hs("POST", `/_matrix/client/v3/rooms/${room(ev.room_id)}/join`, {});
    return;
  }
  if (ev.type !== "m.room.message") return;
  await hs("GET", `/_matrix/client/v3/rooms/${room(ev.room_id)}/joined_members`);
  await hs("PUT", `/_matrix/client/v3/rooms/${room(ev.room_id)}/send/m.room.message/${randomUUID()}`, {
    msgtype: "m.notice",
    body: `echo: ${ev.content?.body ?? ""}`,
    "m.relates_to": { "m.in_reply_to": { event_id: ev.event_id } },
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = createServer((req, res) => {
  const auth = req.headers.authorization ?? "";
  if (auth !== `Bearer ${opts.hsToken}`) {
    res.writeHead(403, { "content-type": "application/json" }).end('{"errcode":"M_FORBIDDEN"}');
    return;
  }
  readBody(req).then(
    (text) => {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      if (req.method !== "PUT" || !req.url?.includes("/transactions/")) return;
      const events = ((JSON.parse(text || "{}") as { events?: Event[] }).events ?? []) as Event[];
      for (const ev of events) {
        handle(ev).catch((err: unknown) => process.stderr.write(`minimal appservice: ${String(err)}\n`));
      }
    },
    () => res.writeHead(400).end(),
  );
});

async function main(): Promise<void> {
  await hs("POST", "/_matrix/client/v3/register", {
    type: "m.login.application_service",
    username: opts.userId.slice(1, opts.userId.indexOf(":")),
  });
  await new Promise<void>((resolve) => server.listen(opts.port, "127.0.0.1", resolve));
  process.stdout.write("ready\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`minimal appservice failed: ${String(err)}\n`);
  process.exit(1);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
