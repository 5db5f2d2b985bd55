import { Command } from "commander";

import { agentCommand } from "./agent.js";
import { bmcSimCommand } from "./bmc-sim.js";
import { chainCommand } from "./chain.js";
import { gatewayCommand } from "./gateway.js";
import { keeperCommand } from "./keeper.js";
import { auditCommand, pricesCommand } from "./market/audit.js";
import { bidsCommand } from "./market/bids.js";
import { creditsCommand } from "./market/credits.js";
import { leasesCommand } from "./market/leases.js";
import { nodesCommand } from "./market/nodes.js";
import { offersCommand } from "./market/offers.js";
import { tenantsCommand, usersCommand } from "./market/people.js";
import { timeslotsCommand } from "./market/timeslots.js";
import { redfishCommand } from "./redfish.js";
import { startCommand } from "./start.js";

const program = new Command("market")
  .description("Metalmarket: rent bare-metal nodes and time-slices, settled on a Quorum-compatible chain")
  .showHelpAfterError()
  .addHelpText(
    "after",
    "\nCommands that use the market talk to the gateway (--gateway, --api-key-file; after `npm start`, the\n" +
      "local admin's key by default), or sign on the chain with your own wallet (--rpc, --keystore).",
  )
  .addCommand(startCommand())
  .addCommand(tenantsCommand())
  .addCommand(usersCommand())
  .addCommand(creditsCommand())
  .addCommand(nodesCommand())
  .addCommand(offersCommand())
  .addCommand(timeslotsCommand())
  .addCommand(bidsCommand())
  .addCommand(leasesCommand())
  .addCommand(pricesCommand())
  .addCommand(auditCommand())
  .addCommand(gatewayCommand())
  .addCommand(agentCommand())
  .addCommand(keeperCommand())
  .addCommand(redfishCommand())
  .addCommand(bmcSimCommand())
  .addCommand(chainCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`market: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
