import { Command, Option } from "commander";

import { Keeper, type KeeperCounters } from "../../sdk/index.js";
import { createLogger } from "../../sdk/log.js";
import { DEFAULT_RPC_URL, chainOf, withChainOptions, type ConnectionFlags } from "./connection.js";
import { seconds, untilStopped } from "./options.js";

type KeeperFlags = ConnectionFlags & {
  interval: string;
  confirmations: string;
  logLevel: "debug" | "info" | "warn" | "error";
};

/** `market keeper ...`: the market's permissionless housekeeping, for anyone to run. */
export function keeperCommand(): Command {
  const command = new Command("keeper").description(
    "permissionless housekeeping: forfeit unrevealed bids, settle leases that are due, clear rounds",
  );

  withChainOptions(command.command("run"))
    .description(
      "follow the chain and send what is due until Ctrl-C, signed by the given key (any account with gas; the gateway runs one too)",
    )
    .option("--interval <seconds>", "pause between passes over the chain", "5")
    .option("--confirmations <blocks>", "blocks behind the head to stay (0 on a chain with instant finality)", "0")
    .addOption(
      new Option("--log-level <level>", "least severe log level")
        .choices(["debug", "info", "warn", "error"])
        .default("info"),
    )
    .action(async (flags: KeeperFlags) => {
      const confirmations = Number(flags.confirmations);
      if (!Number.isInteger(confirmations) || confirmations < 0) {
        throw new Error(`--confirmations must be a whole number of blocks, not "${flags.confirmations}"`);
      }
      const chain = await chainOf({ ...flags, rpc: flags.rpc ?? DEFAULT_RPC_URL });
      const keeper = new Keeper({
        provider: chain.provider,
        deployment: chain.deployment,
        contracts: chain.contracts,
        logger: createLogger(flags.logLevel),
        options: { pollIntervalMs: seconds(flags.interval, "--interval") * 1000, confirmations },
      });
      keeper.start();
      await untilStopped(
        `keeper running as ${chain.address} on chain ${chain.deployment.chainId} from block ${chain.deployment.blockNumber}`,
      );
      await keeper.stop();
      chain.close();
      process.stdout.write(`keeper stopped: ${statusLine(keeper.status().counters)}\n`);
    });

  return command;
}

/** What a keeper did, on one line: "forfeited 1, settled 0, refunded 2, cleared 1, ...". */
function statusLine(counters: KeeperCounters): string {
  return Object.entries(counters)
    .map(([name, count]) => `${name} ${count}`)
    .join(", ");
}
