import type { Server } from "node:http";
import express, { type Request, type Response } from "express";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { requireHsToken, secretsEqual } from "./hsTokenAuth";
import type { MatrixEvent } from "../agents/types";

const log = moduleLogger("appservice/http");

export interface AppserviceHandlers {
  /** Must resolve only once the events are durably recorded; a rejection answers 5xx. */
  onTransaction(txnId: string, events: MatrixEvent[], ephemeral: unknown[]): Promise<void>;
  /** True when the user id is one of ours (and now exists on the homeserver). */
  onUserQuery(userId: string): Promise<boolean>;
  onPing(transactionId: string | undefined): void;
  readiness(): Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export type TransactionOutcome = "ok" | "failed" | "draining";

export interface HttpServerOptions {
  hsToken: string;
  metricsEnabled: boolean;
  metricsToken?: string;
  handlers: AppserviceHandlers;
  /** Told how each pushed transaction was answered (metrics). */
  onTransactionAnswered?(outcome: TransactionOutcome, events: number): void;
}

/**
 * The appservice API (homeserver → bridge) plus health, readiness and metrics. We serve it
 * ourselves rather than through matrix-appservice's server because that one acknowledges a
 * transaction before its events are stored, and compares the hs_token in variable time.
 */
export class HttpServer {
  private server?: Server;
  private draining = false;
  /** Transactions being recorded right now; stopping waits for them. */
  private readonly recording = new Set<Promise<void>>();
  readonly app = express();

  constructor(private readonly opts: HttpServerOptions) {
    const app = this.app;
    app.disable("x-powered-by");
    app.get("/health", (_req, res) => void res.json({ status: "ok" }));
    app.get("/ready", (req, res) => void this.ready(req, res));
    if (opts.metricsEnabled) app.get("/metrics", (req, res) => void this.metrics(req, res));

    const matrix = express.Router();
    matrix.use(requireHsToken(opts.hsToken));
    matrix.use(express.json({ limit: "10mb" }));
    matrix.put("/transactions/:txnId", (req, res) => void this.transaction(req, res));
    matrix.get("/users/:userId", (req, res) => void this.userQuery(req, res));
    matrix.get(
      "/rooms/:alias",
      (_req, res) => void res.status(404).json({ errcode: "M_NOT_FOUND", error: "No such room" }),
    );
    matrix.post("/ping", (req, res) => {
      opts.handlers.onPing(
        typeof req.body?.transaction_id === "string" ? req.body.transaction_id : undefined,
      );
      res.json({});
    });
    app.use("/_matrix/app/v1", matrix);
    app.use(
      (_req, res) => void res.status(404).json({ errcode: "M_UNRECOGNIZED", error: "Unknown endpoint" }),
    );
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const server = this.app.listen(port, host);
      server.once("listening", () => resolve());
      server.once("error", reject);
      this.server = server;
    });
    const address = this.server!.address();
    return typeof address === "object" && address ? address.port : port;
  }

  /** From now on transactions get 503, so the homeserver keeps them for the next start. */
  startDraining(): void {
    this.draining = true;
  }

  /** Resolves when every transaction that arrived before draining began has been answered. */
  async drained(): Promise<void> {
    while (this.recording.size) await Promise.allSettled([...this.recording]);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async transaction(req: Request, res: Response): Promise<void> {
    if (this.draining) {
      res.status(503).json({ errcode: "M_UNAVAILABLE", error: "Shutting down; retry later" });
      this.opts.onTransactionAnswered?.("draining", 0);
      return;
    }
    const txnId = String(req.params.txnId);
    const body = (req.body ?? {}) as { events?: unknown; ephemeral?: unknown };
    if (!Array.isArray(body.events ?? [])) {
      res.status(400).json({ errcode: "M_BAD_JSON", error: "events must be a list" });
      return;
    }
    const events = ((body.events as unknown[]) ?? []).filter(isEvent);
    const ephemeral = Array.isArray(body.ephemeral) ? body.ephemeral : [];
    const recording = Promise.resolve().then(() =>
      this.opts.handlers.onTransaction(txnId, events, ephemeral),
    );
    const tracked = recording.then(
      () => undefined,
      () => undefined,
    );
    this.recording.add(tracked);
    try {
      await recording;
      res.json({});
      this.opts.onTransactionAnswered?.("ok", events.length);
    } catch (err) {
      // Not recorded → not acknowledged: the homeserver retries the same transaction later.
      log.error(
        { txnId, err: errorMessage(err) },
        "Could not record transaction; answering 500 so it is retried",
      );
      res.status(500).json({ errcode: "M_UNKNOWN", error: "Could not record the transaction" });
      this.opts.onTransactionAnswered?.("failed", events.length);
    } finally {
      this.recording.delete(tracked);
    }
  }

  private async userQuery(req: Request, res: Response): Promise<void> {
    const userId = String(req.params.userId);
    try {
      if (await this.opts.handlers.onUserQuery(userId)) res.json({});
      else res.status(404).json({ errcode: "M_NOT_FOUND", error: "No such user" });
    } catch (err) {
      log.error({ userId, err: errorMessage(err) }, "User query failed");
      res.status(500).json({ errcode: "M_UNKNOWN", error: "User query failed" });
    }
  }

  private async ready(_req: Request, res: Response): Promise<void> {
    const { ready, checks } = await this.opts.handlers.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks });
  }

  private async metrics(req: Request, res: Response): Promise<void> {
    const token = this.opts.metricsToken;
    if (token) {
      const header = req.headers.authorization ?? "";
      if (!header.startsWith("Bearer ") || !secretsEqual(header.slice(7), token)) {
        res.status(401).send("Unauthorized\n");
        return;
      }
    }
    const { contentType, body } = await this.opts.handlers.metrics();
    res.setHeader("Content-Type", contentType);
    res.send(body);
  }
}

function isEvent(value: unknown): value is MatrixEvent {
  const e = value as MatrixEvent;
  return typeof e === "object" && e !== null && typeof e.event_id === "string" && typeof e.type === "string";
}
