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

/** What a revealed bid says, as `BidRevealed` does; `start` and `duration` in seconds. */
export interface RevealedTerms {
  offerId: number;
  profileId: number;
  start: number;
  duration: number;
  pricePerHour: bigint;
  replacesLease: number;
}

/**
 * The id of `bidder`'s revealed bid in `roundId` with `terms`: for a bid revealed by a transaction
 * whose receipt the gateway never read (a replica that died after sending it, the bidder's own
 * wallet). Of identical bids by one bidder in one round, the first.
 */
export async function findRevealedBidId(
  db: Db,
  roundId: number,
  bidder: string,
  terms: RevealedTerms,
): Promise<number | undefined> {
  const row = await db.get<{ bid_id: number }>(
    `SELECT bid_id FROM bids WHERE round_id = $1 AND bidder = $2 AND offer_id = $3 AND profile_id = $4
       AND starts_at = $5 AND duration = $6 AND price_per_hour = $7 AND replaces_lease = $8
     ORDER BY bid_id LIMIT 1`,
    [
      roundId,
      bidder.toLowerCase(),
      terms.offerId,
      terms.profileId,
      terms.start,
      terms.duration,
      terms.pricePerHour.toString(),
      terms.replacesLease,
    ],
  );
  return row === undefined ? undefined : Number(row.bid_id);
}
