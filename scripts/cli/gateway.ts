import { Command, Option } from "commander";

import { readGatewaySettings } from "../../api/config.js";
import { startGateway } from "../../api/gateway.js";
import { createLogger } from "../../sdk/log.js";
import { untilStopped } from "./options.js";

const CLOSE_TIMEOUT_MS = 10_000;

/** `market gateway ...`: the REST gateway for people and programs without a wallet. */
export function gatewayCommand(): Command {
  const command = new Command("gateway").description("the REST gateway, its read model and audit queries");

  command
    .command("run")
    .description("index the chain and serve the REST API until Ctrl-C")
    .requiredOption("--config <file>", "the gateway's JSON settings (see api/README.md)")
    .option("--rebuild", "drop the read model and index the chain again (it is rebuilt from events alone)")
    .addOption(
      new Option("--log-level <level>", "least severe log level")
        .choices(["debug", "info", "warn", "error"])
        .default("info"),
    )
    .action(async (flags: { config: string; rebuild?: boolean; logLevel: "debug" | "info" | "warn" | "error" }) => {
      const settings = await readGatewaySettings(flags.config);
      const running = await startGateway(settings, {
        logger: createLogger(flags.logLevel),
        rebuildReadModel: flags.rebuild === true,
      });
      const keyFile = settings.bootstrapAdmin.apiKeyFile;
      // One write, so that whoever waits for the "listening" line also has the key line.
      const lines = [`gateway listening on ${running.url}`];
      if (running.bootstrapApiKey !== undefined) {
        lines.unshift(
          keyFile === undefined
            ? `first admin created: ${settings.bootstrapAdmin.email}; API key (shown once): ${running.bootstrapApiKey}`
            : `first admin created: ${settings.bootstrapAdmin.email}; API key written to ${keyFile}`,
        );
      }
      await untilStopped(lines.join("\n"));
      // Work under way gets time to finish; a chain that stopped answering does not hold the exit.
      const giveUp = setTimeout(() => {
        process.stderr.write(`market: the gateway did not stop within ${CLOSE_TIMEOUT_MS / 1000} s; exiting\n`);
        process.exit(1);
      }, CLOSE_TIMEOUT_MS);
      giveUp.unref();
      await running.close();
    });

  return command;
}
