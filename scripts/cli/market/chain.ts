import type { ContractTransactionResponse } from "ethers";

import {
  eventsOfReceipt,
  withDecodedRevert,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
} from "../../../sdk/index.js";
import { withChain, type ConnectionFlags } from "../connection.js";

/** What a transaction signed by the caller's own wallet did. */
export interface Sent {
  txHash: string;
  blockNumber: number;
  events: { name: string; args: Record<string, unknown> }[];
}

/** Signs and sends one transaction with the caller's wallet; a revert names the contract's error. */
export async function sendOnChain(
  flags: ConnectionFlags,
  transaction: (
    contracts: MarketContracts,
    address: string,
    deployment: Deployment,
  ) => Promise<ContractTransactionResponse>,
): Promise<Sent> {
  return withChain(flags, async ({ contracts, deployment, address }) => {
    const receipt = await withDecodedRevert(async () => (await transaction(contracts, address, deployment)).wait());
    if (receipt === null) throw new Error("the transaction was dropped");
    return {
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      events: eventsOfReceipt(deployment, receipt).map((event: MarketEvent) => ({
        name: event.name,
        args: { ...event.args },
      })),
    };
  });
}
