import type { TransactionReceipt, TransactionResponse } from "ethers";

import { MarketRevertError, withDecodedRevert } from "./errors.js";
import { receiptOf } from "./receipt-watcher.js";

/**
 * A transaction mined but reverted for a reason that is not final: it ran out of gas, or replayed
 * on its block's state it passes (its outcome depended on its place in the chain: the block's time
 * or a transaction before it). Sending it again, after checking it is still wanted, is safe.
 */
export class MinedRevertError extends Error {
  constructor(
    readonly txHash: string,
    readonly outOfGas: boolean,
  ) {
    super(
      outOfGas
        ? `transaction ${txHash} ran out of gas when mined`
        : `transaction ${txHash} was reverted when mined, though it passes on its block's state`,
    );
    this.name = "MinedRevertError";
  }
}

/** A call that used at least this share of its gas limit (63/64, EIP-150) ran out of gas. */
const OUT_OF_GAS_NUMERATOR = 63n;
const OUT_OF_GAS_DENOMINATOR = 64n;

/**
 * Waits for `response` to be mined and answers its receipt. A revert is named: as the contract's
 * `MarketRevertError` when replaying the call on the state of its block reverts with a custom
 * error (final), else as a `MinedRevertError` (worth sending again).
 */
export async function confirmed(response: TransactionResponse): Promise<TransactionReceipt> {
  // The plain receipt: a contract's `wait()` decodes every log again, and throws on a revert
  // without saying why.
  const receipt = await receiptOf(response.provider, response.hash);
  if (receipt.status === 1) return receipt;
  throw await minedRevertOf(response, receipt);
}

async function minedRevertOf(response: TransactionResponse, receipt: TransactionReceipt): Promise<Error> {
  if (receipt.gasUsed * OUT_OF_GAS_DENOMINATOR >= response.gasLimit * OUT_OF_GAS_NUMERATOR) {
    return new MinedRevertError(response.hash, true);
  }
  try {
    // On the state after its block and with that block's time: a window that closed, a lease
    // settled by an earlier transaction of the block, are seen as the transaction saw them.
    await withDecodedRevert(() =>
      response.provider.call({
        from: response.from,
        to: response.to,
        data: response.data,
        value: response.value,
        blockTag: receipt.blockNumber,
      }),
    );
  } catch (error) {
    if (error instanceof MarketRevertError) return error;
  }
  return new MinedRevertError(response.hash, false);
}
