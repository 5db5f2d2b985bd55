import { readFile } from "node:fs/promises";
import { relative } from "node:path";

import { Command } from "commander";

import { describeDeployment, deploySettingsFromEnv, summaryLine } from "../lib/deploy-settings.js";
import { seedDemo, type DemoMarket } from "../stack/demo.js";
import { readStackSettings } from "../stack/settings.js";
import { startStack, type RunningStack } from "../stack/stack.js";
import { untilStopped } from "./options.js";
import { progressBar } from "./progress.js";

interface StartFlags {
  config?: string;
  demo?: boolean;
  dataDir?: string;
  nodes?: string;
  port?: string;
}

/** `market start`: the whole marketplace on this machine (what `npm start` runs). */
export function startCommand(): Command {
  return new Command("start")
    .description(
      "run the whole marketplace: chain, deployment, simulated BMCs, agents, indexer and gateway, until Ctrl-C",
    )
    .option("--config <file>", "stack settings (JSON): a real network, PostgreSQL, real BMCs; see the README")
    .option("--demo", "also seed a live market: buyers with credits, offers under every price model, bids, a lease")
    .option("--data-dir <dir>", "where secrets, databases and logs are kept (default .metalmarket)")
    .option("--nodes <n>", "how many simulated BMCs (0: none)")
    .option("--port <port>", "the gateway's port (default 8080)")
    .action(async (flags: StartFlags) => {
      const settings = await readStackSettings(flags.config, {
        ...process.env,
        ...(flags.dataDir === undefined ? {} : { MARKET_DATA_DIR: flags.dataDir }),
        ...(flags.nodes === undefined ? {} : { MARKET_NODES: flags.nodes }),
        ...(flags.port === undefined ? {} : { MARKET_PORT: flags.port }),
      });
      const bar = progressBar();
      let stack: RunningStack;
      try {
        stack = await startStack(settings, bar, deploySettingsFromEnv(process.env));
      } finally {
        bar.finish();
      }
      let demo: DemoMarket | string | undefined;
      try {
        if (flags.demo === true) demo = await demoOf(stack);
      } catch (error) {
        await stack.close();
        throw error;
      }
      const outcome = await Promise.race([
        untilStopped(summary(stack, demo)).then((signal) => ({ signal })),
        stack.exited.then((exit) => ({ exit })),
      ]);
      if ("exit" in outcome) {
        process.stderr.write(
          `market: ${outcome.exit.part} stopped (exit code ${outcome.exit.code}); stopping the rest. ` +
            `Its log: ${outcome.exit.logFile}\n`,
        );
        process.exitCode = 1;
      } else process.stdout.write(`\n${outcome.signal}: stopping\n`);
      await stack.close();
    });
}

async function demoOf(stack: RunningStack): Promise<DemoMarket | string> {
  if (!stack.newProviders) return "seeded in an earlier run (its state is kept)";
  if (stack.providers.length === 0) return "not seeded: it needs at least four simulated BMCs (--nodes 4)";
  const bar = progressBar();
  const steps = 4;
  let done = 0;
  try {
    return await seedDemo({
      admin: await stack.client(),
      rpcUrl: stack.rpcUrl,
      providers: stack.providers,
      password: (await readFile(stack.peoplePasswordFile, "utf8")).trim(),
      onStep: (label) => bar.step(`seeding the demo: ${label}`, done++, steps),
    });
  } finally {
    bar.finish();
  }
}

/** The short summary a newcomer reads: where things are and how to log in. */
function summary(stack: RunningStack, demo: DemoMarket | string | undefined): string {
  const here = (path: string) => {
    const near = relative(process.cwd(), path);
    return near.startsWith("..") ? path : near;
  };
  const lines = [
    "Metalmarket is running.",
    summaryLine(
      "portal",
      `${stack.gatewayUrl}  (API docs ${stack.gatewayUrl}/docs, health ${stack.gatewayUrl}/healthz)`,
    ),
    summaryLine("chain", `${stack.rpcUrl}${stack.embeddedChain ? " (embedded Hardhat EDR, automine)" : ""}`),
    describeDeployment(stack.deployment),
    summaryLine("log in", `${stack.admin.email}, password in ${here(stack.admin.passwordFile)}`),
    summaryLine("", `API key (Authorization: Bearer ...) in ${here(stack.admin.apiKeyFile)}`),
  ];
  for (const provider of stack.providers) {
    lines.push(
      summaryLine("provider", `${provider.name}: ${provider.email}, ${plural(provider.nodes.length, "node")}`),
    );
  }
  if (typeof demo === "object") {
    lines.push(summaryLine("demo", `buyers ${demo.buyers.join(", ")}; auditor ada@audit.example`));
    lines.push(
      summaryLine("", `${demo.offers.length} offers, lease ${demo.leaseId} running, ${demo.bids.length} sealed bids`),
    );
  } else if (demo !== undefined) lines.push(summaryLine("demo", demo));
  if (stack.providers.length > 0 || typeof demo === "object") {
    lines.push(summaryLine("", `their password is in ${here(stack.peoplePasswordFile)}`));
  }
  lines.push(summaryLine("data", `${here(stack.dataDir.root)} (logs in ${here(stack.dataDir.logs)})`));
  if (stack.retiredState) {
    lines.push(
      summaryLine(
        "note",
        `the embedded chain starts empty on every run; the last run's state is in ${here(stack.dataDir.previousState)}`,
      ),
    );
  }
  lines.push("Press Ctrl-C to stop.");
  return lines.join("\n");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
