import { Command, Option } from "commander";

import { readAgentConfig } from "../../oracle/agent/config.js";
import { enrollmentProfile } from "../../oracle/agent/enroll.js";
import { startAgent } from "../../oracle/agent/run.js";
import { createLogger } from "../../sdk/log.js";
import { createKeystore, readPassword } from "../../sdk/index.js";
import { DEFAULT_RPC_URL, withChainOptions, type ConnectionFlags } from "./connection.js";
import { sendOnChain } from "./market/chain.js";
import { clientOptionsOf, seconds, untilStopped, withBmcOptions, type BmcFlags } from "./options.js";
import { printJson, warn } from "./output.js";

const DEFAULT_CALENDAR_UNIT_SECONDS = 60;

/** `market agent ...`: run a provider's agent, enroll machines, make its key. */
export function agentCommand(): Command {
  const command = new Command("agent").description("the provider's agent: provisions leased nodes through their BMCs");

  command
    .command("run")
    .description("follow the chain and provision, meter and clean the configured nodes' leases")
    .requiredOption("--config <file>", "the agent's JSON configuration")
    .addOption(
      new Option("--log-level <level>", "least severe log level")
        .choices(["debug", "info", "warn", "error"])
        .default("info"),
    )
    .action(async (flags: { config: string; logLevel: "debug" | "info" | "warn" | "error" }) => {
      const logger = createLogger(flags.logLevel);
      const config = await readAgentConfig(flags.config);
      const running = await startAgent(config, logger);
      const usage = running.usage === undefined ? "" : `; usage served on ${running.usage.url}`;
      await untilStopped(`agent running for nodes ${config.nodes.map((node) => node.nodeId).join(", ")}${usage}`);
      await running.close();
    });

  withChainOptions(withBmcOptions(command.command("enroll")))
    .description("read a machine's inventory from its BMC and register it on-chain with that profile")
    .option("--agent <address>", "the account of the agent that will operate the node (default: the signer)")
    .option("--calendar-unit <seconds>", "the node's calendar resolution", String(DEFAULT_CALENDAR_UNIT_SECONDS))
    .option("--dry-run", "print the profile without registering")
    .action(async (flags: BmcFlags & ConnectionFlags & { agent?: string; calendarUnit: string; dryRun?: boolean }) => {
      const { inventory, resources, attributes, warnings } = await enrollmentProfile(
        await clientOptionsOf(flags),
        flags.system,
      );
      if (flags.dryRun === true) {
        printJson({ resources, attributes, warnings, inventory });
        return;
      }
      warn(warnings);
      const calendarUnit = seconds(flags.calendarUnit, "--calendar-unit");
      let agent = flags.agent;
      const sent = await sendOnChain({ ...flags, rpc: flags.rpc ?? DEFAULT_RPC_URL }, (contracts, signer) => {
        agent ??= signer;
        return contracts.nodes.registerNode(resources, calendarUnit, agent, attributes);
      });
      const registered = sent.events.find((event) => event.name === "NodeRegistered");
      printJson({
        nodeId: registered === undefined ? null : Number(registered.args.nodeId),
        agent,
        resources,
        attributes,
        transactionHash: sent.txHash,
      });
    });

  withChainOptions(
    command
      .command("report-cleaned <leaseId>")
      .description(
        "report a lease's machine wiped after the operator wiped it by hand: the node may then take leases again",
      ),
  ).action(async (leaseId: string, flags: ConnectionFlags) => {
    const id = Number(leaseId);
    if (!Number.isInteger(id) || id <= 0) throw new Error(`not a lease id: ${leaseId}`);
    const sent = await sendOnChain({ ...flags, rpc: flags.rpc ?? DEFAULT_RPC_URL }, (contracts) =>
      contracts.leases.reportCleaned(id),
    );
    printJson({ leaseId: id, transactionHash: sent.txHash });
  });

  command
    .command("keygen")
    .description("make a new account for an agent, encrypted at rest in a keystore file")
    .requiredOption("--out <file>", "where to write the keystore (never overwritten)")
    .requiredOption("--password-file <file>", "file holding the password that encrypts it")
    .action(async (flags: { out: string; passwordFile: string }) => {
      const password = await readPassword(flags.passwordFile);
      if (password.length < 12) throw new Error("use a keystore password of at least 12 characters");
      printJson({ address: await createKeystore(flags.out, password), keystore: flags.out });
    });

  return command;
}
