import type { ContractRunner } from "ethers";

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
import type { Deployment } from "./deployment.js";

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

/** Binds the deployment's contracts to `runner` (a signer to send, a provider to read). */
export function attach(deployment: Deployment, runner: ContractRunner): MarketContracts {
  const { contracts } = deployment;
  return {
    credits: Credits__factory.connect(contracts.credits, runner),
    market: Market__factory.connect(contracts.market, runner),
    nodes: Nodes__factory.connect(contracts.nodes, runner),
    offers: Offers__factory.connect(contracts.offers, runner),
    leases: Leases__factory.connect(contracts.leases, runner),
  };
}
