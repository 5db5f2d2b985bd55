import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { sealBid, type BidTerms, type MarketEvent, type SealedBid } from "../../sdk/index.js";
import type { World } from "./world.js";

/** Seals `terms` for `bidder` and commits them with `deposit`. */
export async function commit(
  w: World,
  bidder: HardhatEthersSigner,
  terms: BidTerms,
  deposit: bigint,
): Promise<SealedBid> {
  const bid = sealBid(
    { chainId: w.deployment.chainId, market: w.deployment.contracts.market },
    bidder.address,
    terms,
    deposit,
  );
  await w.send(w.as(bidder).market.commitBid(bid.commitment, deposit, terms.roundId));
  return bid;
}

/** Reveals a sealed bid as its bidder, with the hint the Market suggests; a lease it wins boots `image`. */
export async function reveal(
  w: World,
  bidder: HardhatEthersSigner,
  bid: SealedBid,
  image = "",
): Promise<MarketEvent[]> {
  const hint = await w.c.market.insertionHint(
    bid.terms.roundId,
    bid.terms.pricePerHour,
    bidder.address,
    bid.commitment,
  );
  return w.send(w.as(bidder).market.revealBid(bid.terms, bid.salt, hint, image));
}

export async function currentRound(w: World): Promise<number> {
  return Number(await w.c.market.currentRound());
}

/** Moves the clock to the opening of `roundId`'s reveal window. */
export async function toRevealWindow(w: World, roundId: number): Promise<void> {
  const [opensAt] = await w.c.market.revealWindow(roundId);
  await w.connection.networkHelpers.time.increaseTo(opensAt);
}

/** Moves the clock to the close of `roundId`'s reveal window, when clearing may start. */
export async function toClearing(w: World, roundId: number): Promise<void> {
  const [, closesAt] = await w.c.market.revealWindow(roundId);
  await w.connection.networkHelpers.time.increaseTo(closesAt);
}

/** Clears `roundId` in chunks of `chunk` bids; returns every event clearing emitted. */
export async function clearAll(w: World, roundId: number, chunk = 50): Promise<MarketEvent[]> {
  const events: MarketEvent[] = [];
  while (!(await w.c.market.isRoundCleared(roundId))) {
    events.push(...(await w.send(w.c.market.clearRound(roundId, chunk))));
  }
  return events;
}
