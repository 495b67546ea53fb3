import { Command, CommanderError } from "commander";
import { BridgeError } from "../errors";
import { bridgeVersion } from "../version";
import { complain } from "./output";
import { runStart } from "./start";
import { runGenerateRegistration } from "./generateRegistration";
import { runDoctor } from "./doctor";
import { EXIT, exitCodeFor } from "./exitCodes";
import { fileErrorMessage } from "./fileErrors";
import { runOperatorCommand } from "./operatorCommands";

const DEFAULT_CONFIG = "config/config.yaml";

/** Entry point of the `matrix-agent-bridge` command. Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("matrix-agent-bridge")
    .description("A Matrix application service that runs agents (reminders, FAQ, timers) as virtual users.")
    .version(bridgeVersion(), "-V, --version", "print the version")
    .showHelpAfterError()
    .exitOverride();
  let result: Promise<number> = Promise.resolve(0);

  program
    .command("start")
    .description("Start the bridge: serve the appservice API and run the agents.")
    .option("-c, --config <path>", "config file", DEFAULT_CONFIG)
    .action((opts: { config: string }) => {
      result = runStart(opts.config);
    });

  program
    .command("generate-registration")
    .description("Write a registration file (with new random tokens) for the homeserver.")
    .option("-c, --config <path>", "config file", DEFAULT_CONFIG)
    .option("-o, --output <path>", "where to write it (default: appservice.registration from the config)")
    .option("-f, --force", "overwrite an existing file (its tokens are replaced)")
    .action((opts: { config: string; output?: string; force?: boolean }) => {
      result = runGenerateRegistration(opts.config, opts.output, opts.force === true);
    });

  program
    .command("doctor")
    .description("Check the config, database, registration and homeserver, and explain what is wrong.")
    .option("-c, --config <path>", "config file", DEFAULT_CONFIG)
    .action((opts: { config: string }) => {
      result = runDoctor(opts.config);
    });

  const operator = (name: string, description: string, args: string[] = []) => {
    const cmd = program.command([name, ...args].join(" ")).description(description);
    cmd.option("-c, --config <path>", "config file", DEFAULT_CONFIG).action((...params: unknown[]) => {
      const opts = params[args.length] as { config: string };
      const text = [name, ...(params.slice(0, args.length) as string[])].join(" ");
      result = runOperatorCommand(opts.config, text);
    });
  };
  operator("status", "Show the bridge's state: agents, queues, parked messages, scheduler.");
  operator("parked", "List messages that could not be delivered.");
  operator("retry", "Send a parked message again (its id from `parked`, or `all`).", ["<id>"]);
  operator("discard", "Drop a parked message for good.", ["<id>"]);
  operator("agents", "List the agents and whether they run.");
  operator("agent", "Pause or resume an agent (pause | resume).", ["<id>", "<action>"]);

  for (const cmd of program.commands) cmd.exitOverride();

  try {
    await program.parseAsync(argv);
    return await result;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; commander already printed the text.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof BridgeError) {
      complain(`Error: ${err.explain()}`);
      return exitCodeFor(err);
    }
    const fileProblem = fileErrorMessage(err);
    if (fileProblem) {
      complain(`Error: ${fileProblem}`);
      return EXIT.FAILURE;
    }
    complain(`Unexpected error: ${(err as Error)?.stack ?? err}`);
    return EXIT.FAILURE;
  }
}
