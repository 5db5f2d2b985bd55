import { Command } from "commander";

import { endSequence, runSteps, startSequence, type RedfishSystem, type Step } from "../../oracle/redfish/index.js";
import { openSystem, seconds, withBmcOptions, type BmcFlags } from "./options.js";
import { printJson } from "./output.js";

interface SequenceFlags extends BmcFlags {
  powerTimeout: string;
}

/** `market redfish ...`: run the agent's sequences by hand against any Redfish BMC. */
export function redfishCommand(): Command {
  const command = new Command("redfish").description("drive one machine through its BMC, as the agent does");

  withBmcOptions(command.command("provision"))
    .description("run the start sequence: power off, eject, insert the image, boot once from CD, power on")
    .requiredOption("--image <url>", "URL of the image the BMC mounts as virtual CD")
    .option("--power-timeout <seconds>", "longest wait for a power state", "300")
    .action(async (flags: SequenceFlags & { image: string }) => {
      await runSequence(flags, (system) => startSequence(system, flags.image, powerOptions(flags)));
    });

  withBmcOptions(command.command("release"))
    .description("run the end sequence: power off, eject, and boot the wipe image if given")
    .option("--wipe-image <url>", "the provider's wipe image, booted to clean the machine")
    .option("--wipe-timeout <seconds>", "how long the wipe may run", "600")
    .option("--power-timeout <seconds>", "longest wait for a power state", "300")
    .action(async (flags: SequenceFlags & { wipeImage?: string; wipeTimeout: string }) => {
      const wipe =
        flags.wipeImage === undefined
          ? undefined
          : { image: flags.wipeImage, timeoutMs: seconds(flags.wipeTimeout, "--wipe-timeout") * 1000 };
      await runSequence(flags, (system) => endSequence(system, wipe, powerOptions(flags)));
    });

  withBmcOptions(command.command("inventory"))
    .description("print the machine's cores, memory, disks and NICs")
    .action(async (flags: BmcFlags) => {
      const system = await openSystem(flags);
      try {
        printJson(await system.inventory());
      } finally {
        await system.client.close();
      }
    });

  return command;
}

function powerOptions(flags: SequenceFlags) {
  return { power: { timeoutMs: seconds(flags.powerTimeout, "--power-timeout") * 1000, pollMs: 1_000 } };
}

/** Runs the steps and prints what each did, the final power state and the boot settings. */
async function runSequence(flags: BmcFlags, plan: (system: RedfishSystem) => Step[]): Promise<void> {
  const system = await openSystem(flags);
  try {
    const result = await runSteps(system, plan(system));
    const document = await system.read();
    const boot = await system.bootOverride(document);
    const media = await system.virtualCd().catch(() => undefined);
    printJson({
      bmc: system.client.origin,
      system: system.path,
      ok: result.ok,
      steps: result.steps,
      powerState: document.PowerState,
      boot,
      virtualMedia: media === undefined ? null : { path: media.path, image: media.image, inserted: media.inserted },
    });
    if (!result.ok) process.exitCode = 1;
  } finally {
    await system.client.close();
  }
}
