import { withGasHeadroom } from "./gas.js";
import { MarketRevertError } from "./revert.js";

/** One `clearRound` transaction: how many bids it takes and the gas it is sent with. */
export interface ClearingChunk {
  maxBids: number;
  gasLimit: bigint;
}

/**
 * A chunk may take at most this share of a block's gas (1/2): what a bid costs varies by far (a
 * pool bid tries up to `MAX_POOL_TRIES` offers, over a million gas at worst), and a chunk that
 * filled a block would wait behind everyone else's transactions, or never fit once padded.
 */
const BLOCK_SHARE_DENOMINATOR = 2n;
/**
 * And at most this much gas whatever the block holds, so that one clearing transaction never
 * crowds a block of other tenants' transactions. One bid never costs more (a pool bid's tries are
 * bounded), so a round always clears in transactions of at most this size.
 */
export const MAX_CLEARING_TX_GAS = 2_000_000n;

/**
 * The largest chunk of a round's clearing, from `upTo` bids down, whose estimate fits half the
 * block's gas limit and `MAX_CLEARING_TX_GAS`: halved while it does not (or while the estimate fails for a reason other than
 * the contract's refusal, such as "gas required exceeds allowance"). One bid is sent whatever it
 * costs: it cannot be split. `estimate(maxBids)` estimates `clearRound(roundId, maxBids)`, with
 * contract refusals as `MarketRevertError` (`withDecodedRevert`), which end the search.
 */
export async function clearingChunk(
  estimate: (maxBids: number) => Promise<bigint>,
  blockGasLimit: bigint,
  upTo: number,
): Promise<ClearingChunk> {
  const share = blockGasLimit / BLOCK_SHARE_DENOMINATOR;
  const budget = share < MAX_CLEARING_TX_GAS ? share : MAX_CLEARING_TX_GAS;
  for (let maxBids = Math.max(1, Math.floor(upTo)); ; maxBids = Math.max(1, Math.floor(maxBids / 2))) {
    let gas: bigint | undefined;
    try {
      gas = await estimate(maxBids);
    } catch (error) {
      if (maxBids === 1 || error instanceof MarketRevertError) throw error;
    }
    if (gas !== undefined && (gas <= budget || maxBids === 1)) {
      return { maxBids, gasLimit: withGasHeadroom(gas, blockGasLimit) };
    }
  }
}

/** What clearing a round takes from its client: reads, an estimate and a send that waits. */
export interface RoundClearing {
  isCleared(): Promise<boolean>;
  /** Estimates `clearRound(roundId, maxBids)`, with refusals as `MarketRevertError`. */
  estimate(maxBids: number): Promise<bigint>;
  /** Sends one chunk and waits for it to be mined; refusals as `MarketRevertError`. */
  send(chunk: ClearingChunk): Promise<void>;
  blockGasLimit(): Promise<bigint>;
}

/**
 * Clears a round chunk after chunk (`clearingChunk`, from `upTo` bids) until it is cleared, by
 * this client or anyone else: a chunk refused because another clearer finished first is success.
 */
export async function clearRoundInChunks(clearing: RoundClearing, upTo: number): Promise<void> {
  while (!(await clearing.isCleared())) {
    try {
      await clearing.send(await clearingChunk((n) => clearing.estimate(n), await clearing.blockGasLimit(), upTo));
    } catch (error) {
      if (!(error instanceof MarketRevertError && error.revert.name === "RoundAlreadyCleared")) throw error;
    }
  }
}
