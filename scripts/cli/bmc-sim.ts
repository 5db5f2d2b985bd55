import { Command, Option } from "commander";

import { BmcFleet, mixedSizes } from "../../oracle/bmc-sim/fleet.js";
import { readPassword } from "../../sdk/index.js";
import { untilStopped } from "./options.js";
import { printJson } from "./output.js";

/** `market bmc-sim`: a fleet of simulated BMCs for trying the agent without hardware. */
export function bmcSimCommand(): Command {
  return new Command("bmc-sim")
    .description("serve a fleet of simulated Redfish BMCs, shaped like the DMTF reference server")
    .option("--count <n>", "how many BMCs", "8")
    .option("--user <name>", "BMC user name", "admin")
    .requiredOption("--password-file <file>", "file holding the BMCs' password")
    .option("--first-index <n>", "index of the first machine (its MAC and IP derive from it)", "1")
    .option("--mixed-sizes", "machines of three sizes in turn, instead of the reference server only")
    .option("--power-ms <ms>", "how long a power transition takes", "2000")
    .option("--media-task-ms <ms>", "how long mounting virtual media takes (0: no task)", "1000")
    .addOption(
      new Option("--virtual-media <where>", "where virtual media hangs")
        .choices(["system", "manager"])
        .default("system"),
    )
    .action(
      async (flags: {
        count: string;
        user: string;
        passwordFile: string;
        powerMs: string;
        mediaTaskMs: string;
        virtualMedia: "system" | "manager";
        firstIndex: string;
        mixedSizes?: boolean;
      }) => {
        const fleet = await BmcFleet.start({
          count: Number(flags.count),
          firstIndex: Number(flags.firstIndex),
          ...(flags.mixedSizes === true ? { hardware: mixedSizes } : {}),
          username: flags.user,
          password: await readPassword(flags.passwordFile),
          behaviour: {
            powerTransitionMs: Number(flags.powerMs),
            mediaTaskMs: Number(flags.mediaTaskMs),
            virtualMedia: flags.virtualMedia,
          },
        });
        printJson(fleet.bmcs.map((bmc) => ({ url: bmc.url, systemId: bmc.systemId })));
        await untilStopped();
        await fleet.close();
      },
    );
}
