import type { BidTerms } from "../../sdk/index.js";
import type { Db } from "../db/database.js";

/** A revealed bid as the read model holds it: who bid, and what came of it. */
export interface BidRow {
  bidder: string;
  state: string;
  lease_id: number | null;
}

export function findBid(db: Db, roundId: number, bidId: number): Promise<BidRow | undefined> {
  return db.get<BidRow>("SELECT bidder, state, lease_id FROM bids WHERE round_id = $1 AND bid_id = $2", [
    roundId,
    bidId,
  ]);
}

/** `bidder`'s revealed bid with exactly `terms` (a bid revealed by another hand than the gateway's). */
export function findBidByTerms(db: Db, bidder: string, terms: BidTerms): Promise<BidRow | undefined> {
  return db.get<BidRow>(
    `SELECT bidder, state, lease_id FROM bids WHERE round_id = $1 AND bidder = $2 AND offer_id = $3 AND profile_id = $4
       AND starts_at = $5 AND duration = $6 AND price_per_hour = $7 AND replaces_lease = $8 ORDER BY bid_id LIMIT 1`,
    [
      terms.roundId,
      bidder.toLowerCase(),
      terms.offerId,
      terms.profileId,
      terms.start,
      terms.duration,
      terms.pricePerHour.toString(),
      terms.replacesLease,
    ],
  );
}
