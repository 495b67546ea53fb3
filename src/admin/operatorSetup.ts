import type { Knex } from "knex";
import { DIALECT_NAMES, type Dialect } from "../store/database";
import type { ResolvedAgent } from "../agents/agentConfig";
import type { OperatorTelemetry } from "./operatorTelemetry";
import { AgentPauses } from "./agentPauses";
import { AdminService } from "./adminService";
import { BotAdmin } from "./botAdmin";
import type { AdminAgent } from "./statusReport";

export interface Operators {
  pauses: AgentPauses;
  bot: BotAdmin;
  service: AdminService;
}

export function adminAgents(agents: readonly ResolvedAgent[]): AdminAgent[] {
  return agents.map((a) => ({
    id: a.id,
    userId: a.userId,
    displayName: a.displayName,
    command: a.definition.manifest.command,
  }));
}

/** The operator side of a running bridge: pauses (loaded), the bot's command room, the service. */
export async function setUpOperators(input: {
  knex: Knex;
  agents: readonly ResolvedAgent[];
  botUserId: string;
  admins: readonly string[];
  dialect: Dialect;
  telemetry: OperatorTelemetry;
  checkHomeserver(): Promise<string>;
}): Promise<Operators> {
  const ids = input.agents.map((a) => a.id);
  const pauses = await new AgentPauses((paused) => input.telemetry.setPaused(ids, paused)).load(input.knex);
  const service = new AdminService({
    knex: input.knex,
    agents: adminAgents(input.agents),
    pauses,
    startedAt: new Date(),
    database: DIALECT_NAMES[input.dialect],
    commandsLastHour: (id) => input.telemetry.commands.lastHour(id),
    checkHomeserver: input.checkHomeserver,
  });
  const bot = new BotAdmin(input.botUserId, input.admins, () => service);
  await bot.load(input.knex);
  return { pauses, bot, service };
}
