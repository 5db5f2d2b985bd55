import { readFile } from "node:fs/promises";

import { Option, type Command } from "commander";
import type { JsonRpcProvider } from "ethers";

import { GatewayClient } from "../../api/client.js";
import {
  ManagedSigner,
  createProvider,
  loadWallet,
  openDeployment,
  transactionDefaultsFor,
  type Deployment,
  type MarketContracts,
} from "../../sdk/index.js";

/** The embedded chain of `npm start`. */
export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
/** Where `npm start` keeps the first admin's API key: the default credential on this machine. */
const LOCAL_API_KEY_FILE = ".metalmarket/state/admin.api-key";

/** How a command reaches the market: the gateway with an API key, or the chain with a wallet key. */
export interface ConnectionFlags {
  gateway: string;
  apiKey?: string;
  apiKeyFile?: string;
  rpc?: string;
  deployments: string;
  keystore?: string;
  keyPasswordFile?: string;
  privateKey?: string;
  json?: boolean;
}

/** The chain options alone, for commands that always sign themselves (e.g. `agent enroll`). */
export function withChainOptions(command: Command): Command {
  return command
    .addOption(new Option("--rpc <url>", "the chain's JSON-RPC URL: sign with a wallet key").env("MARKET_RPC_URL"))
    .option("--deployments <dir>", "folder of <chainId>.json deployment files", "deployments")
    .option("--keystore <file>", "encrypted keystore of the account that signs")
    .option("--key-password-file <file>", "file holding the keystore's password")
    .addOption(
      new Option("--private-key <hex>", "raw key, for development chains only").env("MARKET_PRIVATE_KEY").hideHelp(),
    );
}

/** Gateway and chain options, and `--json`, for every command that talks to the market. */
export function withConnection(command: Command): Command {
  return withChainOptions(
    command
      .addOption(
        new Option("--gateway <url>", "the gateway's URL").env("MARKET_GATEWAY_URL").default("http://127.0.0.1:8080"),
      )
      .addOption(new Option("--api-key-file <file>", "file holding your API key").env("MARKET_API_KEY_FILE"))
      .addOption(new Option("--api-key <key>", "your API key").env("MARKET_API_KEY").hideHelp()),
  ).option("--json", "print the answer as JSON, for scripts");
}

/** True when the command should sign on the chain itself rather than ask the gateway. */
export function onChain(flags: ConnectionFlags): boolean {
  return flags.rpc !== undefined;
}

/** A client of the gateway with the caller's API key (`npm start`'s admin key when none is given). */
export async function gatewayOf(flags: ConnectionFlags): Promise<GatewayClient> {
  if (flags.apiKey !== undefined) return new GatewayClient(flags.gateway, flags.apiKey);
  const file = flags.apiKeyFile ?? LOCAL_API_KEY_FILE;
  let key: string;
  try {
    key = (await readFile(file, "utf8")).trim();
  } catch {
    throw new Error(
      flags.apiKeyFile === undefined
        ? "no API key: give --api-key-file (or MARKET_API_KEY), or run `npm start` here first"
        : `cannot read the API key file ${file}`,
    );
  }
  return new GatewayClient(flags.gateway, key);
}

/** The market's contracts, signed for by the caller's own wallet. */
export interface ChainSession {
  provider: JsonRpcProvider;
  deployment: Deployment;
  contracts: MarketContracts;
  address: string;
  close(): void;
}

export async function chainOf(flags: ConnectionFlags): Promise<ChainSession> {
  if (flags.rpc === undefined) throw new Error("give the chain's --rpc URL");
  const provider = createProvider(flags.rpc);
  try {
    const wallet = await loadWallet(
      { keystore: flags.keystore, passwordFile: flags.keyPasswordFile, privateKey: flags.privateKey },
      provider,
    );
    const signer = new ManagedSigner(wallet, await transactionDefaultsFor(provider));
    const { deployment, contracts } = await openDeployment(signer, flags.deployments);
    return { provider, deployment, contracts, address: wallet.address, close: () => provider.destroy() };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

/** Runs `work` with a chain session, and closes it. */
export async function withChain<T>(flags: ConnectionFlags, work: (chain: ChainSession) => Promise<T>): Promise<T> {
  const chain = await chainOf(flags);
  try {
    return await work(chain);
  } finally {
    chain.close();
  }
}
