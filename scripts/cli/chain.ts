import { Command } from "commander";

import { untilStopped } from "./options.js";

const DEFAULT_PORT = 8545;

/** `market chain serve`: a local development chain (Hardhat's EDR) over JSON-RPC. */
export function chainCommand(): Command {
  const command = new Command("chain").description("a local development chain (Hardhat's EDR)");

  command
    .command("serve")
    .description("serve an empty automining chain over JSON-RPC until Ctrl-C; its state lives in memory only")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", String(DEFAULT_PORT))
    .action(async (flags: { host: string; port: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new Error(`--port must be a TCP port, not ${flags.port}`);
      // Loaded here, so that the other commands do not pay for Hardhat's start-up.
      const { network } = await import("hardhat");
      const server = await network.createServer("hardhat", flags.host, port);
      let address;
      try {
        address = await server.listen();
      } catch (error) {
        throw new Error(`cannot listen on ${flags.host}:${port} (is another chain running there?)`, { cause: error });
      }
      process.stdout.write(`chain listening on http://${address.address}:${address.port}\n`);
      await untilStopped();
      await server.close();
    });

  return command;
}
