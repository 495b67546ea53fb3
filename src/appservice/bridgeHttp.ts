import type { Knex } from "knex";
import { moduleLogger } from "../logging/logger";
import { errorMessage } from "../errors";
import type { MatrixEvent } from "../agents/types";
import type { BridgeMetrics } from "../metrics";
import type { OperatorTelemetry } from "../admin/operatorTelemetry";
import { adminRouter } from "../admin/adminHttp";
import type { AdminService } from "../admin/adminService";
import { Inbox } from "../store/inbox";
import { Outbox } from "../store/outbox";
import type { RoomActivity } from "../store/roomActivity";
import { HttpServer } from "./httpServer";
import { MatrixHttpError, type HomeserverClient } from "./homeserverClient";
import type { EventPipeline } from "./eventPipeline";
import type { GapRecovery } from "./gapRecovery";
import type { CryptoManager } from "../crypto/cryptoManager";

const log = moduleLogger("appservice/bridge-http");

/** What the appservice API needs from a running bridge; read lazily, since it listens before start ends. */
export interface BridgeHttpDeps {
  hsToken: string;
  metricsEnabled: boolean;
  metricsToken?: string;
  metrics: BridgeMetrics;
  telemetry: OperatorTelemetry;
  /** admin.token: turns the operator API on (see src/admin/adminHttp.ts). */
  adminToken?: string;
  admin: () => AdminService | undefined;
  client: HomeserverClient;
  knex: () => Knex | undefined;
  pipeline: () => EventPipeline | undefined;
  gaps: () => GapRecovery | undefined;
  activity: () => RoomActivity | undefined;
  /** The agents' encrypted devices (encryption on): their feeds are stored in the claim. */
  crypto: () => CryptoManager | undefined;
  /** True once every part runs (gap suspicion and readiness depend on it). */
  isReady: () => boolean;
  /** Our user ids are registered on first query (the homeserver asks before inviting them). */
  onUserQuery: (userId: string) => Promise<boolean>;
  onPing: () => void;
  /** Entries of the bounded in-memory caches, by cache (a gauge). */
  cacheSizes: () => Record<string, number>;
}

/**
 * The appservice HTTP API of a bridge: transactions go into the inbound pipeline (after a gap
 * check), readiness checks the database and the homeserver, metrics refresh their gauges from the
 * database when scraped.
 */
export function createBridgeHttpServer(deps: BridgeHttpDeps): HttpServer {
  const { metrics } = deps;
  return new HttpServer({
    hsToken: deps.hsToken,
    metricsEnabled: deps.metricsEnabled,
    metricsToken: deps.metricsToken,
    onTransactionAnswered: (outcome) => metrics.transactions.inc({ outcome }),
    onEventRejected: (rejection) => metrics.eventsRejected.inc({ reason: rejection.reason }),
    adminRouter: adminRouter(deps.adminToken, deps.admin),
    handlers: {
      onTransaction: async (txn) => {
        const pipeline = deps.pipeline()!;
        const gaps = deps.gaps();
        // A counter jump, a restart or an outage since the last push: read back what may be lost
        // before handling what came after it (handling waits; claims go on).
        if (deps.isReady() && gaps?.suspectLoss(txn.txnId)) {
          log.warn({ txnId: txn.txnId }, "The homeserver may have lost events; reading back active rooms");
          pipeline.hold(gaps.recover("suspected-loss"));
        }
        const crypto = deps.crypto();
        const feeds = crypto?.mayCarryFeeds(txn.body) === true;
        if (txn.events.length === 0 && !feeds) return; // ephemeral data only: nothing to record
        let kick: string[] = [];
        await pipeline.receive(txn.events, {
          inClaim: async (trx: Knex.Transaction, toHandle: MatrixEvent[]) => {
            // Rooms with something for an agent (gap recovery reads these back).
            await deps.activity()!.touch(
              trx,
              toHandle.filter((e) => e.state_key === undefined).map((e) => e.room_id),
            );
            // To-device messages and key counts are durable before the 200, like the events.
            if (feeds) kick = await crypto!.persistFeeds(trx, txn.body);
          },
        });
        crypto?.kick(kick);
      },
      onUserQuery: deps.onUserQuery,
      onPing: deps.onPing,
      readiness: () => readiness(deps),
      metrics: async () => {
        await refreshGauges(deps);
        return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
      },
    },
  });
}

async function refreshGauges(deps: BridgeHttpDeps): Promise<void> {
  for (const [cache, size] of Object.entries(deps.cacheSizes()))
    deps.metrics.cacheEntries.set({ cache }, size);
  const knex = deps.knex();
  if (!knex) return;
  const outbox = new Outbox(knex);
  deps.metrics.outboxDepth.set(await outbox.pendingCount());
  deps.metrics.outboxFailed.set(await outbox.failedCount());
  deps.metrics.outboxOldestSeconds.set((await outbox.oldestPendingAgeSeconds(new Date())) ?? 0);
  deps.metrics.eventsUnhandled.set(await new Inbox(knex).unhandledCount());
  await deps.telemetry.refresh(knex, () =>
    deps.client.request("GET", "/_matrix/client/versions", { timeoutMs: 3_000 }).then(
      () => true,
      () => false,
    ),
  );
}

async function readiness(deps: BridgeHttpDeps): Promise<{ ready: boolean; checks: Record<string, string> }> {
  // While starting, the answer is known without asking the database or the homeserver.
  if (!deps.isReady()) return { ready: false, checks: { started: "starting" } };
  const checks: Record<string, string> = {};
  try {
    const knex = deps.knex();
    if (!knex) throw new Error("database not open");
    await knex.raw("select 1");
    checks.database = "ok";
  } catch (err) {
    checks.database = errorMessage(err);
  }
  try {
    await deps.client.request("GET", "/_matrix/client/versions", { timeoutMs: 5_000 });
    checks.homeserver = "ok";
  } catch (err) {
    checks.homeserver = err instanceof MatrixHttpError ? err.message : errorMessage(err);
  }
  checks.started = deps.isReady() ? "ok" : "starting";
  return { ready: Object.values(checks).every((v) => v === "ok"), checks };
}
