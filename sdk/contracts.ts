import { Contract, type ContractRunner } from "ethers";

import {
  Credits__factory,
  Leases__factory,
  Market__factory,
  Nodes__factory,
  Offers__factory,
  type Credits,
  type Leases,
  type Market,
  type Nodes,
  type Offers,
} from "../typechain-types/index.js";
import { readDeployment, type Deployment } from "./deployment.js";

/** The market's contracts, typed. */
export interface MarketContracts {
  credits: Credits;
  market: Market;
  nodes: Nodes;
  offers: Offers;
  leases: Leases;
}

/** The name of each deployed contract, as used in deployment files and decoded events. */
export type ContractName = keyof MarketContracts;

export const contractNames: readonly ContractName[] = ["credits", "market", "nodes", "offers", "leases"];

/** The contract interfaces, for decoding logs and errors without a runner. */
export const contractInterfaces = {
  credits: Credits__factory.createInterface(),
  market: Market__factory.createInterface(),
  nodes: Nodes__factory.createInterface(),
  offers: Offers__factory.createInterface(),
  leases: Leases__factory.createInterface(),
} as const;

/**
 * Binds the deployment's contracts to `runner` (a signer to send, a provider to read). The parsed
 * interfaces are shared: TypeChain's `connect` parses the whole ABI again on every call, which made
 * binding the busiest part of a gateway's send.
 */
export function attach(deployment: Deployment, runner: ContractRunner): MarketContracts {
  const { contracts } = deployment;
  const bind = <T>(name: ContractName) =>
    new Contract(contracts[name], contractInterfaces[name], runner) as unknown as T;
  return {
    credits: bind<Credits>("credits"),
    market: bind<Market>("market"),
    nodes: bind<Nodes>("nodes"),
    offers: bind<Offers>("offers"),
    leases: bind<Leases>("leases"),
  };
}

/**
 * Opens the market on the chain `runner` is connected to, from `deployments/<chainId>.json`.
 * Refuses a deployment file whose contracts are not on that chain, e.g. after a local chain restarted.
 */
export async function openDeployment(
  runner: ContractRunner,
  directory = "deployments",
): Promise<{ deployment: Deployment; contracts: MarketContracts }> {
  const provider = runner.provider;
  if (provider === null || provider === undefined) throw new Error("the runner needs a provider");
  const { chainId } = await provider.getNetwork();
  const deployment = await readDeployment(chainId, directory);
  const missing = [];
  for (const name of contractNames) {
    if ((await provider.getCode(deployment.contracts[name])) === "0x") missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(
      `the deployment file for chain ${chainId} names contracts that are not on this chain (${missing.join(", ")}): ` +
        "the chain was reset or the file is stale; deploy again",
    );
  }
  return { deployment, contracts: attach(deployment, runner) };
}
