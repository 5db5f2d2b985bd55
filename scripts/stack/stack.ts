import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { HDNodeWallet, type JsonRpcSigner } from "ethers";

import { GatewayClient } from "../../api/client.js";
import {
  ManagedSigner,
  createProvider,
  deployMarket,
  latestBlockTime,
  readDeployment,
  writeDeployment,
  type DeployOptions,
  type Deployment,
} from "../../sdk/index.js";
import { freePort } from "../lib/free-port.js";
import {
  dataDirAt,
  exists,
  prepareDataDir,
  readJson,
  retireState,
  secretFile,
  writeJson,
  type DataDir,
} from "./files.js";
import { startPart, type Part } from "./part.js";
import {
  LOCAL_PROVIDERS,
  agentConfig,
  agentKey,
  createLocalProviders,
  type LocalProvider,
  type SimulatedBmcAddress,
} from "./providers.js";
import type { StackSettings } from "./settings.js";

/** Hardhat's well-known development mnemonic: the embedded chain's funded accounts. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/** The development account that pays the agents' gas (the first is the operator's). */
const FUNDER_ACCOUNT = 1;
const AGENT_FUNDS_WEI = 10n ** 20n;
const ADMIN_EMAIL = "admin@metalmarket.local";
const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 200;

/** What a long start-up reports as it goes, for a progress bar. */
export interface Progress {
  step(label: string, done: number, total: number): void;
}

export interface RunningStack {
  dataDir: DataDir;
  rpcUrl: string;
  gatewayUrl: string;
  deployment: Deployment;
  embeddedChain: boolean;
  /** The first admin: email, password file, and the file with its API key. */
  admin: { email: string; passwordFile: string; apiKeyFile: string };
  /** The password of every local provider's owner (and of the demo's people). */
  peoplePasswordFile: string;
  providers: LocalProvider[];
  /** True when the providers were made by this start (a new chain, or a first start). */
  newProviders: boolean;
  parts: Part[];
  /** True when an earlier run's state was moved to `previous-state/`. */
  retiredState: boolean;
  /** Resolves when a part exits on its own (or is stopped): which one, and its exit code. */
  exited: Promise<{ part: string; code: number | null; logFile: string }>;
  client(): Promise<GatewayClient>;
  close(): Promise<void>;
}

/**
 * Starts the whole marketplace as processes on `settings.host`: the chain (embedded unless an
 * RPC URL is set), the deployment, the simulated BMCs, the gateway with its indexer, and one agent
 * per provider. Parts stop in the reverse order.
 */
export async function startStack(
  settings: StackSettings,
  progress: Progress,
  deployOptions: DeployOptions = {},
): Promise<RunningStack> {
  const dir = dataDirAt(settings.dataDir);
  const embeddedChain = settings.chain.rpcUrl === undefined;
  const retiredState = embeddedChain && (await retireState(dir));
  await prepareDataDir(dir);
  const parts: Part[] = [];
  const total = 6;
  try {
    const start = async (name: string, args: string[], ready: RegExp) => {
      const part = await startPart(name, args, ready, dir.logs);
      parts.push(part);
      return part;
    };

    progress.step("starting the chain", 0, total);
    const rpcUrl = embeddedChain
      ? urlIn(
          await start(
            "chain",
            [
              "chain",
              "serve",
              "--host",
              settings.host,
              "--port",
              String(settings.chain.port),
              "--block-seconds",
              String(settings.chain.blockSeconds),
              ...(settings.chain.hardfork === undefined ? [] : ["--hardfork", settings.chain.hardfork]),
            ],
            /chain listening on \S+/,
          ),
          /chain listening on (\S+)/,
        )
      : (settings.chain.rpcUrl as string);

    progress.step("deploying the market", 1, total);
    const deploymentsDir = settings.chain.deploymentsDir ?? join(dir.state, "deployments");
    const deployment = await deploymentFor(
      rpcUrl,
      embeddedChain,
      deploymentsDir,
      settings.chain.chainId,
      deployOptions,
    );

    progress.step("starting the simulated BMCs", 2, total);
    const bmcPassword = await secretFile(join(dir.secrets, "bmc.password"));
    const bmcs = await startBmcs(settings, bmcPassword.file, start);

    progress.step("starting the gateway and its indexer", 3, total);
    const adminPassword = await secretFile(join(dir.secrets, "admin.password"), 12);
    const peoplePassword = await secretFile(join(dir.secrets, "people.password"), 12);
    const agents = Object.fromEntries(
      await Promise.all(
        bmcs.length === 0
          ? []
          : LOCAL_PROVIDERS.map(async ({ slug }) => [slug, await agentKey(dir.secrets, slug)] as const),
      ),
    );
    const usagePorts = await Promise.all(LOCAL_PROVIDERS.map(() => freePort(settings.host)));
    const apiKeyFile = join(dir.state, "admin.api-key");
    const gatewayConfig = join(dir.state, "gateway.json");
    await writeJson(
      gatewayConfig,
      {
        ...settings.gateway.settings,
        // The embedded chain's pace is known; a network's is given, or the gateway measures it.
        ...(embeddedChain || settings.chain.blockSeconds > 0
          ? { chain: { blockSeconds: settings.chain.blockSeconds } }
          : {}),
        rpcUrl,
        deploymentsDir,
        database: settings.gateway.database ?? join(dir.state, "gateway.sqlite"),
        masterSecretFile: (await secretFile(join(dir.secrets, "master.secret"))).file,
        host: settings.host,
        port: settings.gateway.port,
        operatorKey: embeddedChain ? { privateKey: devKey(0) } : (settings.chain.operatorKey ?? {}),
        bootstrapAdmin: { email: ADMIN_EMAIL, password: adminPassword.value, apiKeyFile },
        agentUsageUrls: {
          ...(settings.gateway.settings.agentUsageUrls as Record<string, string> | undefined),
          ...Object.fromEntries(
            LOCAL_PROVIDERS.flatMap(({ slug }, i) => {
              const agent = agents[slug];
              return agent === undefined ? [] : [[agent.address, `http://${settings.host}:${usagePorts[i]}`]];
            }),
          ),
        },
      },
      0o600,
    );
    const gatewayUrl = urlIn(
      await start("gateway", ["gateway", "run", "--config", gatewayConfig], /gateway listening on \S+/),
      /gateway listening on (\S+)/,
    );
    const client = async () => new GatewayClient(gatewayUrl, (await readFile(apiKeyFile, "utf8")).trim());

    progress.step("enrolling the providers' nodes", 4, total);
    const providersFile = join(dir.state, "providers.json");
    let providers: LocalProvider[] = [];
    const newProviders = !(await exists(providersFile)) && bmcs.length > 0;
    if (!newProviders && (await exists(providersFile))) providers = await readJson<LocalProvider[]>(providersFile);
    else if (newProviders) {
      await fundAgents(rpcUrl, embeddedChain, Object.values(agents));
      providers = await createLocalProviders({
        admin: await client(),
        bmcs,
        bmcPassword: bmcPassword.value,
        ownerPassword: peoplePassword.value,
        agents,
      });
      await writeJson(providersFile, providers);
    }

    progress.step("starting the agents", 5, total);
    for (const [i, provider] of providers.entries()) {
      const config = join(dir.state, `agent-${provider.slug}.json`);
      await writeJson(
        config,
        agentConfig({
          provider,
          rpcUrl,
          deploymentsDir,
          dataDir: join(dir.state, `agent-${provider.slug}`),
          bmcs,
          bmcPasswordFile: bmcPassword.file,
          usagePort: usagePorts[i] ?? 0,
          host: settings.host,
        }),
      );
      await start(`agent-${provider.slug}`, ["agent", "run", "--config", config], /agent running/);
    }
    for (const [i, config] of settings.agents.entries()) {
      await start(`agent-${i + 1}`, ["agent", "run", "--config", config], /agent running/);
    }
    await untilReady(gatewayUrl);
    progress.step("ready", total, total);

    return {
      dataDir: dir,
      rpcUrl,
      gatewayUrl,
      deployment,
      embeddedChain,
      admin: { email: ADMIN_EMAIL, passwordFile: adminPassword.file, apiKeyFile },
      peoplePasswordFile: peoplePassword.file,
      providers,
      newProviders,
      parts,
      retiredState,
      exited: Promise.race(
        parts.map((part) =>
          part.exited.then((code) => ({ part: part.name, code, logFile: join(dir.logs, `${part.name}.log`) })),
        ),
      ),
      client,
      close: () => stopParts(parts),
    };
  } catch (error) {
    await stopParts(parts);
    throw error;
  }
}

/** Stops the parts, the last started first, so nothing loses the part it talks to. */
async function stopParts(parts: readonly Part[]): Promise<void> {
  for (const part of [...parts].reverse()) await part.stop();
}

function urlIn(part: Part, pattern: RegExp): string {
  const url = pattern.exec(part.stdout())?.[1];
  if (url === undefined) throw new Error(`${part.name} did not say where it listens`);
  return url;
}

function devKey(index: number): string {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
}

/** Deploys on the embedded chain; on a real network, reads the existing deployment and checks the chain. */
async function deploymentFor(
  rpcUrl: string,
  embedded: boolean,
  deploymentsDir: string,
  expectedChainId: number | undefined,
  options: DeployOptions,
): Promise<Deployment> {
  const provider = createProvider(rpcUrl);
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    if (expectedChainId !== undefined && chainId !== expectedChainId) {
      throw new Error(`the node at ${rpcUrl} serves chain ${chainId}, not chain ${expectedChainId} as configured`);
    }
    if (!embedded) return await readDeployment(chainId, deploymentsDir);
    const deployer = new ManagedSigner((await provider.getSigner(0)) as JsonRpcSigner);
    // Round 1 opens with the market, so the first bids (the demo's) never meet the end of a round.
    const genesis = options.schedule?.genesis ?? (await latestBlockTime(provider));
    const { deployment } = await deployMarket(deployer, { ...options, schedule: { ...options.schedule, genesis } });
    await writeDeployment(deployment, deploymentsDir);
    return deployment;
  } finally {
    provider.destroy();
  }
}

async function startBmcs(
  settings: StackSettings,
  passwordFile: string,
  start: (name: string, args: string[], ready: RegExp) => Promise<Part>,
): Promise<SimulatedBmcAddress[]> {
  const { count, powerMs, mediaTaskMs } = settings.simulatedBmcs;
  if (count === 0) return [];
  const part = await start(
    "bmcs",
    [
      "bmc-sim",
      ...["--count", String(count), "--password-file", passwordFile, "--mixed-sizes"],
      ...["--power-ms", String(powerMs), "--media-task-ms", String(mediaTaskMs)],
    ],
    /^\]$/m,
  );
  return JSON.parse(part.stdout()) as SimulatedBmcAddress[];
}

/** The agents send their reports as transactions; on the embedded chain gas costs (play) ether. */
async function fundAgents(rpcUrl: string, embedded: boolean, agents: { address: string }[]): Promise<void> {
  if (!embedded) return;
  const provider = createProvider(rpcUrl);
  try {
    const funder = new ManagedSigner((await provider.getSigner(FUNDER_ACCOUNT)) as JsonRpcSigner);
    for (const { address } of agents) {
      await (await funder.sendTransaction({ to: address, value: AGENT_FUNDS_WEI })).wait();
    }
  } finally {
    provider.destroy();
  }
}

async function untilReady(gatewayUrl: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const answer = await fetch(`${gatewayUrl}/readyz`).catch(() => undefined);
    if (answer?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the gateway at ${gatewayUrl} was not ready within a minute`);
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}
