import { Command } from "commander";

import { untilStopped } from "./options.js";

const DEFAULT_PORT = 8545;

/** `market chain serve`: a local development chain (Hardhat's EDR) over JSON-RPC. */
export function chainCommand(): Command {
  const command = new Command("chain").description("a local development chain (Hardhat's EDR)");

  command
    .command("serve")
    .description("serve an empty chain over JSON-RPC until Ctrl-C; its state lives in memory only")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", String(DEFAULT_PORT))
    .option("--block-seconds <seconds>", "mine a block every this many seconds (0: one per transaction)", "0")
    .option("--hardfork <name>", 'the EVM rules, e.g. "berlin" as on a Quorum network (default: the latest)')
    .option("--block-gas-limit <gas>", "gas a block holds (default: EDR's, 60M)")
    .action(
      async (flags: {
        host: string;
        port: string;
        blockSeconds: string;
        hardfork?: string;
        blockGasLimit?: string;
      }) => {
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65_535)
          throw new Error(`--port must be a TCP port, not ${flags.port}`);
        const blockSeconds = Number(flags.blockSeconds);
        if (!Number.isInteger(blockSeconds) || blockSeconds < 0)
          throw new Error(`--block-seconds must be a whole number of seconds, not ${flags.blockSeconds}`);
        // Loaded here, so that the other commands do not pay for Hardhat's start-up.
        const { serveLocalChain } = await import("../lib/local-chain.js");
        if (flags.blockGasLimit !== undefined && !/^\d+$/.test(flags.blockGasLimit))
          throw new Error(`--block-gas-limit must be a whole amount of gas, not ${flags.blockGasLimit}`);
        const server = await serveLocalChain(flags.host, port, {
          blockSeconds,
          hardfork: flags.hardfork,
          blockGasLimit: flags.blockGasLimit === undefined ? undefined : BigInt(flags.blockGasLimit),
        });
        let address;
        try {
          address = await server.listen();
        } catch (error) {
          throw new Error(`cannot listen on ${flags.host}:${port} (is another chain running there?)`, { cause: error });
        }
        await untilStopped(`chain listening on http://${address.address}:${address.port}`);
        await server.close();
      },
    );

  return command;
}
