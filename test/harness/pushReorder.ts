/**
 * A proxy between Synapse and the bridge (the registration's url points at it) that can take the
 * Olm-encrypted to-device messages (room keys) out of a pushed transaction: `delay` hands them to
 * the bridge later in a transaction of their own (the key arrives after its event), `drop` never
 * hands them over (the key never arrives). Everything else passes unchanged. Synapse is answered
 * once the bridge answered the rest of its transaction.
 */
import * as http from "node:http";

const TO_DEVICE = "de.sorunome.msc2409.to_device";

export class PushReorder {
  mode: "pass" | "delay" | "drop" = "pass";
  delayMs = 3_000;
  upstream = "";
  /** Olm to-device messages held back (delayed or dropped). */
  held = 0;
  private server?: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  static async start(port: number): Promise<PushReorder> {
    const proxy = new PushReorder();
    proxy.server = http.createServer((req, res) => void proxy.handle(req, res));
    await new Promise<void>((resolve) => proxy.server!.listen(port, "127.0.0.1", resolve));
    return proxy;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = req.url ?? "/";
    const auth = req.headers.authorization;
    let body: Record<string, unknown> | undefined;
    if (req.method === "PUT" && url.includes("/transactions/") && this.mode !== "pass") {
      body = JSON.parse(raw) as Record<string, unknown>;
      const all = (body[TO_DEVICE] as { type?: string }[] | undefined) ?? [];
      const keys = all.filter((m) => m.type === "m.room.encrypted");
      if (keys.length) {
        this.held += keys.length;
        body = { ...body, [TO_DEVICE]: all.filter((m) => m.type !== "m.room.encrypted") };
        if (this.mode === "delay") this.later(url, auth, keys);
      }
    }
    try {
      const answer = await this.forward(req.method ?? "GET", url, auth, body ? JSON.stringify(body) : raw);
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(answer.text);
    } catch {
      res.writeHead(502).end();
    }
  }

  /** The held keys, in a transaction of their own, retried until the bridge takes it. */
  private later(url: string, auth: string | undefined, keys: unknown[]): void {
    const path = url.split("?")[0] + "-late";
    const attempt = (): void => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.forward("PUT", path, auth, JSON.stringify({ events: [], [TO_DEVICE]: keys }))
          .then((a) => (a.status === 200 ? undefined : attempt()))
          .catch(() => attempt());
      }, this.delayMs);
      this.timers.add(timer);
    };
    attempt();
  }

  private async forward(method: string, url: string, auth: string | undefined, body: string) {
    const res = await fetch(this.upstream + url, {
      method,
      headers: { "Content-Type": "application/json", ...(auth ? { Authorization: auth } : {}) },
      body: method === "GET" || method === "HEAD" ? undefined : body,
    });
    return { status: res.status, text: await res.text() };
  }
}
