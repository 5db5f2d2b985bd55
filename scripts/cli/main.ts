import { Command } from "commander";

import { agentCommand } from "./agent.js";
import { bmcSimCommand } from "./bmc-sim.js";
import { chainCommand } from "./chain.js";
import { gatewayCommand } from "./gateway.js";
import { redfishCommand } from "./redfish.js";
import { startCommand } from "./start.js";

const program = new Command("market")
  .description("Metalmarket: rent bare-metal nodes and time-slices, settled on a Quorum-compatible chain")
  .showHelpAfterError()
  .addCommand(startCommand())
  .addCommand(gatewayCommand())
  .addCommand(agentCommand())
  .addCommand(redfishCommand())
  .addCommand(bmcSimCommand())
  .addCommand(chainCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`market: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
