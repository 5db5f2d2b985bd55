import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { Command, Option } from "commander";

import { BmcFleet, mixedSizes } from "../../oracle/bmc-sim/fleet.js";
import { selfSignedTls, type SelfSignedTls } from "../../oracle/bmc-sim/tls.js";
import { readPassword } from "../../sdk/index.js";
import { untilStopped } from "./options.js";
import { toJson } from "./output.js";

/** The BMCs listen here; their certificate names it. */
const HOST = "127.0.0.1";

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
    .addOption(
      new Option("--event-service <kind>", "an EventService taking subscriptions, or none at all")
        .choices(["subscriptions", "absent"])
        .default("subscriptions"),
    )
    .option("--tls", "serve HTTPS with a self-signed certificate generated at start")
    .option("--cert-file <file>", "with --tls: where to write the certificate (PEM), for an agent's caFile")
    .action(
      async (flags: {
        count: string;
        user: string;
        passwordFile: string;
        powerMs: string;
        mediaTaskMs: string;
        virtualMedia: "system" | "manager";
        eventService: "subscriptions" | "absent";
        firstIndex: string;
        mixedSizes?: boolean;
        tls?: boolean;
        certFile?: string;
      }) => {
        const tls = flags.tls === true ? await selfSignedTls([HOST, "localhost"]) : undefined;
        const caFile = tls === undefined ? undefined : await writeCertificate(tls, flags.certFile);
        const fleet = await BmcFleet.start({
          host: HOST,
          ...(tls === undefined ? {} : { tls }),
          count: Number(flags.count),
          firstIndex: Number(flags.firstIndex),
          ...(flags.mixedSizes === true ? { hardware: mixedSizes } : {}),
          username: flags.user,
          password: await readPassword(flags.passwordFile),
          behaviour: {
            powerTransitionMs: Number(flags.powerMs),
            mediaTaskMs: Number(flags.mediaTaskMs),
            virtualMedia: flags.virtualMedia,
            eventService: flags.eventService,
          },
        });
        if (caFile !== undefined)
          process.stderr.write(`market: the BMCs' certificate (an agent's caFile): ${caFile}\n`);
        await untilStopped(
          toJson(
            fleet.bmcs.map((bmc) => ({
              url: bmc.url,
              systemId: bmc.systemId,
              ...(caFile === undefined ? {} : { caFile }),
            })),
          ),
        );
        await fleet.close();
      },
    );
}

/** Writes the certificate (not the key, which stays in memory) where asked, or in a new temporary folder. */
async function writeCertificate(tls: SelfSignedTls, file: string | undefined): Promise<string> {
  const path = resolve(file ?? join(await mkdtemp(join(tmpdir(), "market-bmc-sim-")), "bmc-sim-ca.pem"));
  await writeFile(path, tls.cert, { mode: 0o644 });
  return path;
}
