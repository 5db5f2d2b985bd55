import { JsonRpcApiProvider, type ContractTransactionResponse, type JsonRpcProvider } from "ethers";

import {
  MarketRevertError,
  eventsOfReceipt,
  latestBlockTime,
  minedReceipt,
  withDecodedRevert,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
} from "../sdk/index.js";
import type { ChainBinding } from "./chain-binding.js";
import { conflict } from "./errors.js";
import type { User } from "./identity/users.js";
import type { Wallets } from "./identity/wallets.js";
import type { Indexer } from "./indexer/indexer.js";
import { noteSent } from "./sent-transactions.js";

/**
 * Custodial transactions: how the gateway sends a user's transaction (decoded reverts, noted for
 * idempotent retries, read-your-writes through the indexer), and spends that need credits moved in.
 */

/** A transaction the gateway sent and saw mined, with the market events it emitted. */
export interface Sent {
  txHash: string;
  blockNumber: number;
  events: MarketEvent[];
}

/**
 * Sends a transaction from `user`'s custodial account and waits for it and, unless told not to
 * (the answer does not come from it), for the read model to hold it.
 */
export type Send = (
  user: User,
  action: (contracts: MarketContracts) => Promise<ContractTransactionResponse>,
  options?: { awaitReadModel?: boolean },
) => Promise<Sent>;

/** What a spend needs of the gateway. */
export interface Spending {
  market: MarketContracts;
  deployment: Deployment;
  send: Send;
}

/** Builds `Services.send`: custodial only, decoded reverts, read-your-writes through the indexer. */
export function sender(
  wallets: Wallets,
  indexer: Indexer,
  binding: ChainBinding,
  deployment: Deployment,
  confirmations: number,
): Send {
  return async (user, action, options = {}) => {
    if (!user.custodial) {
      throw conflict(
        "this user signs with their own wallet: send the transaction from it (the portal does this for you)",
        "address",
      );
    }
    const contracts = await wallets.contractsOf(user.address);
    const response = await withDecodedRevert(() => action(contracts));
    await noteSent(response.hash);
    // The node's own receipt when the transaction is mined already (an automining or instant-
    // finality chain answers the send once it is): ethers' receipt checksums every address and
    // wraps every log, for the SDK's decoder (below) to decode them once more. Else, wait for it.
    const provider = response.provider;
    const receipt =
      (provider instanceof JsonRpcApiProvider ? await minedReceipt(provider, response.hash) : null) ??
      (await provider.waitForTransaction(response.hash));
    if (receipt === null) throw new Error(`transaction ${response.hash} was not mined`);
    if (receipt.status !== 1) {
      // Sent without an estimate (a fixed gas limit), a transaction can revert on-chain: replaying
      // it just before its block names the contract's error.
      await withDecodedRevert(() =>
        provider.call({
          from: response.from,
          to: response.to,
          data: response.data,
          blockTag: receipt.blockNumber - 1,
        }),
      );
      throw new Error(`transaction ${response.hash} was reverted when mined`);
    }
    await binding.record(receipt.blockNumber, receipt.blockHash);
    // Answers reflect the write: a following GET sees it in the read model.
    if (confirmations === 0 && options.awaitReadModel !== false) await indexer.waitFor(receipt.blockNumber);
    return { txHash: receipt.hash, blockNumber: receipt.blockNumber, events: eventsOfReceipt(deployment, receipt) };
  };
}

/** The chain's time: the latest block's, or the wall clock when blocks are only mined on demand. */
export function chainClock(provider: JsonRpcProvider): () => Promise<number> {
  // Callers asking together share one read: under load the chain is the bottleneck, and a read
  // already in flight is as fresh as a new one would be by the time either is used.
  let reading: Promise<number> | undefined;
  return async () => {
    reading ??= latestBlockTime(provider).finally(() => (reading = undefined));
    return Math.max(await reading, Math.floor(Date.now() / 1000));
  };
}

/** The one event named `name` in a sent transaction. */
export function eventOf<N extends MarketEvent["name"]>(sent: Sent, name: N): Extract<MarketEvent, { name: N }> {
  const event = sent.events.find((e): e is Extract<MarketEvent, { name: N }> => e.name === name);
  if (event === undefined) throw new Error(`the transaction emitted no ${name}`);
  return event;
}

/**
 * Runs `spend` (a booking, a bid commit); if the market refuses it for want of credits while a
 * custodial user holds credits in their wallet (granted outside the gateway), deposits them and
 * tries once more. Credits granted through the gateway are deposited at once, so this is rare.
 */
export async function withCredits<T>(services: Spending, user: User, spend: () => Promise<T>): Promise<T> {
  try {
    return await spend();
  } catch (error) {
    if (!(error instanceof MarketRevertError) || error.revert.name !== "InsufficientCredits") throw error;
    if (!(await depositWallet(services, user))) throw error;
    return spend();
  }
}

/** Moves every credit in a custodial user's wallet into their market account; false when there were none. */
export async function depositWallet(services: Spending, user: User): Promise<boolean> {
  if (!user.custodial) return false;
  const held = await services.market.credits.balanceOf(user.address);
  if (held === 0n) return false;
  await services.send(user, (c) =>
    c.credits["transferAndCall(address,uint256)"](services.deployment.contracts.market, held),
  );
  return true;
}
