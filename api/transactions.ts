import type { ContractTransactionResponse } from "ethers";

import {
  MarketRevertError,
  confirmed,
  eventsOfReceipt,
  withDecodedRevert,
  type ChainNow,
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

/** A transaction the node took, and its outcome to come. */
export interface Submitted {
  txHash: string;
  /** Settles once it is mined: its events, or the decoded revert (`confirmed`). */
  mined: Promise<Sent>;
}

/**
 * Sends a transaction from `user`'s custodial account and answers once the node took it, without
 * waiting for it to be mined: transactions submitted one after another reach the chain in that order.
 */
export type Submit = (
  user: User,
  action: (contracts: MarketContracts) => Promise<ContractTransactionResponse>,
) => Promise<Submitted>;

/** Builds `Services.send` and its pipelining half, `submit`: custodial only, decoded reverts. */
export function sender(
  wallets: Wallets,
  indexer: Indexer,
  binding: ChainBinding,
  deployment: Deployment,
  confirmations: number,
): { send: Send; submit: Submit } {
  const submit: Submit = async (user, action) => {
    if (!user.custodial) {
      throw conflict(
        "this user signs with their own wallet: send the transaction from it (the portal does this for you)",
        "address",
      );
    }
    const contracts = await wallets.contractsOf(user.address);
    const response = await withDecodedRevert(() => action(contracts));
    await noteSent(response.hash);
    const mined = confirmed(response).then(async (receipt): Promise<Sent> => {
      await binding.record(receipt.blockNumber, receipt.blockHash);
      return { txHash: receipt.hash, blockNumber: receipt.blockNumber, events: eventsOfReceipt(deployment, receipt) };
    });
    // Whoever submits may look at the outcome later, or (a caller that failed meanwhile) never.
    mined.catch(() => undefined);
    return { txHash: response.hash, mined };
  };
  const send: Send = async (user, action, options = {}) => {
    const sent = await (await submit(user, action)).mined;
    // Answers reflect the write: a following GET sees it in the read model.
    if (confirmations === 0 && options.awaitReadModel !== false) await indexer.waitFor(sent.blockNumber);
    return sent;
  };
  return { send, submit };
}

/** The chain's time (unix seconds) as routes use it: never behind the latest block nor the wall clock. */
export function chainTimeOf(clock: () => Promise<ChainNow>): () => Promise<number> {
  return async () => {
    const now = await clock();
    return Math.max(now.head, Math.floor(Date.now() / 1000));
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
