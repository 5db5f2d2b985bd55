import type { MarketContracts } from "./contracts.js";

/**
 * The image lease `leaseId` boots, from the chain's events (images are kept in no storage): the
 * last `LeaseImageSet` for it, else the image its winning bid named in `BidRevealed`, found
 * through the `BidMatched` that created it; "" when it names none. `fromBlock` is where to start
 * looking: the deployment's block.
 */
export async function leaseImage(contracts: MarketContracts, leaseId: number, fromBlock: number): Promise<string> {
  const set = await contracts.leases.queryFilter(contracts.leases.filters.LeaseImageSet(leaseId), fromBlock);
  const last = set.at(-1);
  if (last !== undefined) return last.args.image;
  const [matched] = await contracts.market.queryFilter(
    contracts.market.filters.BidMatched(undefined, undefined, leaseId),
    fromBlock,
  );
  if (matched === undefined) return "";
  const [revealed] = await contracts.market.queryFilter(
    contracts.market.filters.BidRevealed(matched.args.roundId, matched.args.bidId),
    fromBlock,
  );
  return revealed?.args.image ?? "";
}
