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
