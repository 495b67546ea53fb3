import type { Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import { requireHsToken, secretsEqual } from "./hsTokenAuth";
import type { MatrixEvent } from "../agents/types";
import { validateEvents, type Rejection } from "./eventValidation";

const log = moduleLogger("appservice/http");

/** A transaction the homeserver pushed, its events validated at the door. */
export interface PushedTransaction {
  txnId: string;
  /** The events that passed validation (see eventValidation.ts), in order. */
  events: MatrixEvent[];
  ephemeral: unknown[];
  /** The whole body, for the fields other parts read (to-device messages, key counts, …). */
  body: Record<string, unknown>;
}

export interface AppserviceHandlers {
  /** Must resolve only once the events are durably recorded; a rejection answers 5xx. */
  onTransaction(txn: PushedTransaction): Promise<void>;
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
  /** Told of each event refused at the door (metrics); it is logged here. */
  onEventRejected?(rejection: Rejection): void;
  /** The operator API (src/admin/adminHttp.ts), mounted at /admin/v1. */
  adminRouter?: express.Router;
}

/** How long a readiness answer is reused: probes must not turn into homeserver load. */
const READY_CACHE_MS = 2_000;

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
  private readyCache?: { at: number; answer: Promise<{ ready: boolean; checks: Record<string, string> }> };
  readonly app = express();

  constructor(private readonly opts: HttpServerOptions) {
    const app = this.app;
    app.disable("x-powered-by");
    app.get("/health", (_req, res) => void res.json({ status: "ok" }));
    app.get("/ready", (req, res) => void this.ready(req, res));
    if (opts.metricsEnabled) app.get("/metrics", (req, res) => void this.metrics(req, res));
    if (opts.adminRouter) app.use("/admin/v1", opts.adminRouter);

    const matrix = express.Router();
    matrix.use(requireHsToken(opts.hsToken));
    matrix.use((req, res, next) => {
      // Without this, express.json leaves the body empty and the events would be dropped silently.
      if (req.method !== "GET" && req.headers["content-length"] !== "0" && !req.is("application/json")) {
        res.status(400).json({ errcode: "M_NOT_JSON", error: "Content-Type must be application/json" });
        return;
      }
      next();
    });
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
    // Errors are answered in Matrix's JSON form whatever NODE_ENV says: express's default handler
    // would send an HTML page with a stack trace and file paths.
    app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      const e = err as { type?: string; status?: number };
      if (e?.type === "entity.parse.failed")
        return void res.status(400).json({ errcode: "M_NOT_JSON", error: "The body is not valid JSON" });
      if (e?.type === "entity.too.large")
        return void res.status(413).json({ errcode: "M_TOO_LARGE", error: "The body is too large" });
      if (typeof e?.status === "number" && e.status >= 400 && e.status < 500)
        return void res.status(e.status).json({ errcode: "M_BAD_JSON", error: "Bad request" });
      log.error({ err: errorMessage(err) }, "Unexpected error in the HTTP API");
      res.status(500).json({ errcode: "M_UNKNOWN", error: "Internal error" });
    });
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
    const body = req.body as Record<string, unknown>;
    if (
      body === null ||
      typeof body !== "object" ||
      Array.isArray(body) ||
      !Array.isArray(body.events ?? [])
    ) {
      res
        .status(400)
        .json({ errcode: "M_BAD_JSON", error: "The body must be an object whose events is a list" });
      return;
    }
    const { events, rejected } = validateEvents((body.events as unknown[] | undefined) ?? []);
    for (const rejection of rejected) {
      // Answered 200 with the others: a rejected event must never hold back the homeserver's queue.
      log.warn(
        { txnId, ...rejection },
        "Event rejected at the door; the rest of the transaction is recorded",
      );
      this.opts.onEventRejected?.(rejection);
    }
    const ephemeral = Array.isArray(body.ephemeral) ? body.ephemeral : [];
    const recording = Promise.resolve().then(() =>
      this.opts.handlers.onTransaction({ txnId, events, ephemeral, body }),
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

  /**
   * Anyone may probe readiness, so the answer says only ready / not ready; the checks (which name
   * the homeserver and its errors) are shown only with the metrics token. Answers are reused for a
   * moment, so probes never turn into a homeserver request each.
   */
  private async ready(req: Request, res: Response): Promise<void> {
    const now = Date.now();
    if (!this.readyCache || now - this.readyCache.at > READY_CACHE_MS) {
      this.readyCache = { at: now, answer: this.opts.handlers.readiness() };
    }
    let answer: { ready: boolean; checks: Record<string, string> };
    try {
      answer = await this.readyCache.answer;
    } catch (err) {
      answer = { ready: false, checks: { readiness: errorMessage(err) } };
    }
    // "Still starting" costs nothing to re-check and must not hide the moment start-up ends.
    if (answer.checks.started === "starting") this.readyCache = undefined;
    const status = answer.ready ? "ready" : "not ready";
    res
      .status(answer.ready ? 200 : 503)
      .json(this.authorized(req) ? { status, checks: answer.checks } : { status });
  }

  /** A bearer token equal to the metrics token (when one is configured). */
  private authorized(req: Request): boolean {
    const token = this.opts.metricsToken;
    const header = req.headers.authorization ?? "";
    return !!token && header.startsWith("Bearer ") && secretsEqual(header.slice(7), token);
  }

  private async metrics(req: Request, res: Response): Promise<void> {
    if (this.opts.metricsToken && !this.authorized(req)) {
      res.status(401).send("Unauthorized\n");
      return;
    }
    const { contentType, body } = await this.opts.handlers.metrics();
    res.setHeader("Content-Type", contentType);
    res.send(body);
  }
}
