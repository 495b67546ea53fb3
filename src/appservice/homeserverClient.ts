import { BridgeError, HomeserverError } from "../errors";
import { assertOutsideTransaction } from "../store/transactionScope";

/** A non-2xx answer from the homeserver, with what we need to decide on a retry. */
export class MatrixHttpError extends BridgeError {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    /** From the Retry-After header (preferred) or the body's retry_after_ms. */
    readonly retryAfterMs?: number,
  ) {
    super("MATRIX_HTTP", `${status} ${errcode}: ${message}`);
  }
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Act as this user (appservice masquerading). */
  userId?: string;
  /** A binary body (media upload) instead of `body`'s JSON. */
  raw?: { data: Uint8Array; contentType: string };
  timeoutMs?: number;
}

/**
 * A minimal client-server API client authenticated with the as_token. We use it where we
 * need exact control the bridge library does not give: our own transaction ids, the
 * Retry-After header on 429, and the appservice ping.
 */
export class HomeserverClient {
  /** Set when a request found the homeserver unreachable; read (and cleared) by `takeOutage`. */
  private outage = false;

  constructor(
    readonly baseUrl: string,
    /** Empty for unauthenticated requests (e.g. /versions). */
    private readonly asToken: string,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    assertOutsideTransaction(`${method} ${path.split("?")[0]}`);
    const url = new URL(path, this.baseUrl.replace(/\/?$/, "/"));
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    if (opts.userId) url.searchParams.set("user_id", opts.userId);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          "Content-Type": opts.raw?.contentType ?? "application/json",
          ...(this.asToken ? { Authorization: `Bearer ${this.asToken}` } : {}),
        },
        body: opts.raw ? opts.raw.data : opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      this.outage = true;
      throw new HomeserverError(
        `Cannot reach the homeserver at ${this.baseUrl}: ${describeFetchError(err)}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { error: text.slice(0, 200) };
    }
    if (!res.ok) {
      // A proxy in front of a restarting homeserver answers these.
      if (res.status === 502 || res.status === 503 || res.status === 504) this.outage = true;
      throw new MatrixHttpError(
        res.status,
        String(json.errcode ?? "M_UNKNOWN"),
        String(json.error ?? res.statusText),
        retryAfter(res.headers.get("retry-after"), json.retry_after_ms),
      );
    }
    return json as T;
  }

  /** Whether the homeserver was unreachable at some point since the last call (then clears it). */
  takeOutage(): boolean {
    const had = this.outage;
    this.outage = false;
    return had;
  }

  /** POST /_matrix/client/v1/appservice/{id}/ping: the homeserver calls us back. */
  async ping(appserviceId: string, transactionId: string): Promise<{ duration_ms: number }> {
    return this.request("POST", `/_matrix/client/v1/appservice/${encodeURIComponent(appserviceId)}/ping`, {
      body: { transaction_id: transactionId },
      timeoutMs: 40_000,
    });
  }

  /** Sends with our own transaction id, so a resend after a crash is deduplicated by the homeserver. */
  async sendEvent(
    roomId: string,
    type: string,
    txnId: string,
    content: Record<string, unknown>,
    userId: string,
    deviceId?: string,
  ): Promise<string> {
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${encodeURIComponent(txnId)}`;
    const res = await this.request<{ event_id: string }>("PUT", path, {
      body: content,
      userId,
      query: { device_id: deviceId },
    });
    return res.event_id;
  }

  async sendState(
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
    userId: string,
  ): Promise<string> {
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`;
    const res = await this.request<{ event_id: string }>("PUT", path, { body: content, userId });
    return res.event_id;
  }

  /** POST /_matrix/media/v3/upload as `userId`; returns the mxc:// URI. */
  async upload(data: Uint8Array, contentType: string, filename: string, userId: string): Promise<string> {
    const res = await this.request<{ content_uri: string }>("POST", "/_matrix/media/v3/upload", {
      raw: { data, contentType },
      query: { filename },
      userId,
    });
    return res.content_uri;
  }

  async joinedMembers(roomId: string, userId: string): Promise<string[]> {
    const res = await this.request<{ joined: Record<string, unknown> }>(
      "GET",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`,
      { userId },
    );
    return Object.keys(res.joined ?? {});
  }
}

function retryAfter(header: string | null, bodyMs: unknown): number | undefined {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  return typeof bodyMs === "number" && bodyMs >= 0 ? bodyMs : undefined;
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if ((err as Error).name === "TimeoutError") return "timed out";
  return (err as Error).message ?? String(err);
}
