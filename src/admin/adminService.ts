import type { Knex } from "knex";
import { errorMessage } from "../errors";
import { bridgeVersion } from "../version";
import type { AgentPauses } from "./agentPauses";
import { isStatusCommand, runAdminCommand } from "./adminCommands";
import type { AdminAgent, LiveFacts } from "./statusReport";

export interface AdminServiceDeps {
  knex: Knex;
  agents: readonly AdminAgent[];
  pauses: AgentPauses;
  startedAt: Date;
  database: string;
  commandsLastHour(agentId: string): number;
  /** Asks the homeserver (outside any transaction); resolves to a short error text or "ok". */
  checkHomeserver(): Promise<string>;
  now?: () => Date;
}

/**
 * The operator commands of a running bridge, for both doors: the bridge bot's DM (inside the
 * event's transaction) and the HTTP API the CLI uses (in a transaction of its own).
 */
export class AdminService {
  private homeserver: { ok: boolean; detail: string } = { ok: true, detail: "not checked yet" };

  constructor(private readonly deps: AdminServiceDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private live(): LiveFacts {
    return {
      version: bridgeVersion(),
      startedAt: this.deps.startedAt,
      database: this.deps.database,
      homeserver: this.homeserver,
      commandsLastHour: (id) => this.deps.commandsLastHour(id),
    };
  }

  /** Before a command's transaction: `status` reports a fresh homeserver check. */
  async prepare(text: string): Promise<void> {
    if (!isStatusCommand(text)) return;
    const result = await this.deps.checkHomeserver().catch((err) => errorMessage(err));
    this.homeserver = { ok: result === "ok", detail: result };
  }

  /** Runs a command in `db` (the caller's transaction); `afterCommit` receives in-memory follow-ups. */
  async runIn(db: Knex, text: string, by: string, afterCommit: (fn: () => void) => void): Promise<string> {
    return runAdminCommand(text, {
      db,
      agents: this.deps.agents,
      pauses: this.deps.pauses,
      live: this.live(),
      now: this.now(),
      by,
      afterCommit,
    });
  }

  /** Runs a command in a transaction of its own (the HTTP door). */
  async run(text: string, by: string): Promise<string> {
    await this.prepare(text);
    const followUps: (() => void)[] = [];
    const answer = await this.deps.knex.transaction((trx) =>
      this.runIn(trx as unknown as Knex, text, by, (fn) => followUps.push(fn)),
    );
    for (const fn of followUps) fn();
    return answer;
  }
}
