import { withGasHeadroom } from "./signer.js";

/** The most bids one clearing transaction takes, however cheap they are. */
export const MAX_CLEARING_CHUNK = 256;
/** A chunk may use at most this share of a block's gas (percent), leaving room for other transactions. */
const CHUNK_SHARE_OF_BLOCK_PERCENT = 50n;

/** How a clearing chunk is estimated and sent, by whoever clears (the gateway, a keeper, a wallet). */
export interface ClearingPort {
  isRoundCleared(roundId: number): Promise<boolean>;
  /** Gas `clearRound(roundId, maxBids)` would take now; throws when it would not fit a block. */
  estimate(roundId: number, maxBids: number): Promise<bigint>;
  blockGasLimit(): Promise<bigint>;
  /** Sends `clearRound(roundId, maxBids)` with `gasLimit` and waits until it is mined. */
  send(roundId: number, maxBids: number, gasLimit: bigint): Promise<void>;
}

/**
 * Clears `roundId` to the end in chunks that fit the chain's blocks: a chunk whose estimate fails
 * or takes more than half a block's gas is halved (a pool bid can search a hundred offers), a chunk
 * well under it doubles. Answers how many transactions it took.
 */
export async function clearRoundInChunks(port: ClearingPort, roundId: number, firstChunk = 64): Promise<number> {
  let chunk = Math.min(firstChunk, MAX_CLEARING_CHUNK);
  let transactions = 0;
  while (!(await port.isRoundCleared(roundId))) {
    const budget = ((await port.blockGasLimit()) * CHUNK_SHARE_OF_BLOCK_PERCENT) / 100n;
    let estimate: bigint | undefined;
    try {
      estimate = await port.estimate(roundId, chunk);
    } catch (error) {
      if (chunk === 1) throw error;
    }
    if (estimate === undefined || (estimate > budget && chunk > 1)) {
      chunk = Math.max(1, Math.floor(chunk / 2));
      continue;
    }
    await port.send(roundId, chunk, withGasHeadroom(estimate, budget * 2n));
    transactions += 1;
    if (estimate * 4n < budget) chunk = Math.min(chunk * 2, MAX_CLEARING_CHUNK);
  }
  return transactions;
}
