import { readFile } from "node:fs/promises";

import { Option, type Command } from "commander";

import { RedfishClient, RedfishSystem, type RedfishClientOptions } from "../../oracle/redfish/index.js";
import { readPassword } from "../../sdk/index.js";

/** The options every command that talks to one BMC takes. */
export interface BmcFlags {
  bmc: string;
  user: string;
  password?: string;
  passwordFile?: string;
  system?: string;
  insecure?: boolean;
  caFile?: string;
  timeout: string;
}

export function withBmcOptions(command: Command): Command {
  return command
    .requiredOption("--bmc <url>", "the BMC's base URL, e.g. https://10.0.0.17")
    .requiredOption("--user <name>", "BMC user name")
    .addOption(
      new Option(
        "--password <password>",
        "BMC password (visible to other users of this machine: prefer --password-file)",
      ).env("REDFISH_PASSWORD"),
    )
    .option("--password-file <file>", "file holding the BMC password")
    .option("--system <id>", "the ComputerSystem's id; needed when the BMC manages several")
    .option("--ca-file <file>", "PEM of the CA that signed the BMC's certificate")
    .option("--insecure", "accept any BMC certificate (isolated management networks only)")
    .option("--timeout <seconds>", "per-request timeout", "30");
}

/** How to reach the flags' BMC. */
export async function clientOptionsOf(flags: BmcFlags): Promise<RedfishClientOptions> {
  const password = flags.passwordFile !== undefined ? await readPassword(flags.passwordFile) : flags.password;
  if (password === undefined)
    throw new Error("give the BMC password with --password-file, --password or REDFISH_PASSWORD");
  return {
    url: flags.bmc,
    credentials: { username: flags.user, password },
    timeoutMs: seconds(flags.timeout, "--timeout") * 1000,
    insecure: flags.insecure === true,
    ...(flags.caFile === undefined ? {} : { ca: await readFile(flags.caFile) }),
  };
}

/** Opens the system the flags name. The caller closes its client. */
export async function openSystem(flags: BmcFlags): Promise<RedfishSystem> {
  const client = new RedfishClient(await clientOptionsOf(flags));
  try {
    return await RedfishSystem.open(client, flags.system);
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** A positive number of seconds from a flag, or a clear error naming the flag. */
export function seconds(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`${flag} must be a positive number of seconds, not "${value}"`);
  return parsed;
}

/** Set by `market start` for its children: a child also stops when its parent's pipe closes. */
export const STOP_WITH_PARENT_ENV = "MARKET_STOP_WITH_PARENT";

/**
 * Says `ready` on stdout, then resolves on Ctrl-C or SIGTERM; under `market start`, also when the
 * parent goes away (its end of stdin closes), so that a killed supervisor leaves no orphans behind.
 * The handlers are in place before the line is written: whoever waits for it may signal at once,
 * and a signal with no handler yet would kill the process outright.
 */
export function untilStopped(ready: string): Promise<string> {
  const watchParent = process.env[STOP_WITH_PARENT_ENV] === "1";
  const stopped = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
    if (watchParent) {
      process.stdin.once("end", () => resolve("parent gone"));
      process.stdin.resume();
    }
  }).finally(() => {
    // A stdin still read from would keep the process alive after its work has stopped.
    if (watchParent) process.stdin.destroy();
  });
  process.stdout.write(ready.endsWith("\n") ? ready : `${ready}\n`);
  return stopped;
}
