/**
 * Fault-injecting proxies on loopback for the fault tests.
 *
 * - FaultProxy: an HTTP proxy in front of Synapse (the bridge's homeserver.url points at it). A
 *   `rule` decides per request: pass it on, answer it itself (e.g. 429 with Retry-After), pass it on
 *   but drop the response (the request took effect, the client sees a network error), or hold it.
 *   `down()` stops listening (connections refused) until `up()`. Every request is recorded.
 * - TcpProxy: a TCP relay (in front of PostgreSQL) that `cut()` severs and refuses until `restore()`.
 */
import * as http from "node:http";
import * as net from "node:net";

export type ProxyAction =
  | { kind: "pass" }
  /** Answer without asking upstream. */
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: unknown }
  /** Forward, wait for upstream's answer, then destroy the client's connection instead of answering. */
  | { kind: "drop-response" }
  /** Forward after `ms`. */
  | { kind: "delay"; ms: number };

export interface ProxyRequest {
  method: string;
  path: string;
  /** For PUT …/rooms/{roomId}/send/{type}/{txnId}. */
  send?: { roomId: string; type: string; txnId: string };
  /** The request body as text (for rules that look inside, e.g. at a pushed transaction's events). */
  body?: string;
}

export interface ProxyRecord extends ProxyRequest {
  /** ms since the proxy started. */
  at: number;
  action: ProxyAction["kind"];
  /** Status the client got (undefined when the connection was dropped). */
  status?: number;
  /** When the answer went back, ms since the proxy started. */
  doneAt?: number;
}

const SEND_PATH = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/?]+)/;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "content-length"]);

export function describeRequest(method: string, url: string): ProxyRequest {
  const path = url.split("?")[0];
  const m = method === "PUT" ? SEND_PATH.exec(path) : null;
  return {
    method,
    path,
    send: m
      ? { roomId: decodeURIComponent(m[1]), type: decodeURIComponent(m[2]), txnId: decodeURIComponent(m[3]) }
      : undefined,
  };
}

export class FaultProxy {
  upstream = "";
  rule: (req: ProxyRequest) => ProxyAction = () => ({ kind: "pass" });
  readonly records: ProxyRecord[] = [];
  private readonly started = Date.now();
  private readonly sockets = new Set<net.Socket>();
  private server?: http.Server;

  private constructor(public port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstream = "", port = 0): Promise<FaultProxy> {
    const proxy = new FaultProxy(port);
    proxy.upstream = upstream;
    proxy.port = await proxy.listen(port);
    return proxy;
  }

  /** Send requests (PUT …/send/…) recorded so far. */
  sends(): ProxyRecord[] {
    return this.records.filter((r) => r.send);
  }

  /** Stops listening and cuts every connection: clients get "connection refused". */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async up(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.down();
  }

  private listen(port: number): Promise<number> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 1000;
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const request = describeRequest(req.method ?? "GET", req.url ?? "/");
    const action = this.rule({ ...request, body: body.toString("utf8") });
    const record: ProxyRecord = { ...request, at: Date.now() - this.started, action: action.kind };
    this.records.push(record);
    const finish = (status: number | undefined) => {
      record.status = status;
      record.doneAt = Date.now() - this.started;
    };
    try {
      if (action.kind === "respond") {
        res.writeHead(action.status, { "Content-Type": "application/json", ...action.headers });
        res.end(JSON.stringify(action.body ?? {}));
        finish(action.status);
        return;
      }
      if (action.kind === "delay") await new Promise((r) => setTimeout(r, action.ms));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(k) && typeof v === "string") headers[k] = v;
      }
      const upstream = await fetch(this.upstream + (req.url ?? "/"), {
        method: req.method,
        headers,
        body: body.length ? body : undefined,
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (action.kind === "drop-response") {
        req.socket.destroy();
        finish(undefined);
        return;
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k) && k !== "content-encoding") out[k] = v;
      });
      res.writeHead(upstream.status, out);
      res.end(answer);
      finish(upstream.status);
    } catch {
      req.socket.destroy();
      finish(undefined);
    }
  }
}

/** A TCP relay to `target` that can be cut (connections reset, new ones refused) and restored. */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Connections accepted so far. */
  connections = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    public port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    proxy.port = await proxy.listen(0);
    return proxy;
  }

  /** Resets every open connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private listen(port: number): Promise<number> {
    const server = net.createServer((client) => {
      this.connections++;
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once("close", () => this.sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }
}
