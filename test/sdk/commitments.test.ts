import { describe, expect, it } from "vitest";

import {
  BidExceedsDepositError,
  bidCommitment,
  checkSealedBid,
  maxBidCost,
  newSalt,
  parseCredits,
  sealBid,
  storeTerms,
  termsFromStore,
  type BidTerms,
} from "../../sdk/index.js";

const domain = { chainId: 31337, market: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const bidder = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const terms: BidTerms = {
  roundId: 3,
  offerId: 7,
  profileId: 0,
  start: 1_800_000_000,
  duration: 5400,
  pricePerHour: parseCredits("4"),
  replacesLease: 0,
};

describe("Bid commitments", () => {
  it("are fresh for every salt, and stable for the same inputs", () => {
    const salt = newSalt();
    expect(salt).toMatch(/^0x[0-9a-f]{64}$/);
    expect(newSalt()).not.toBe(salt);
    expect(bidCommitment(domain, bidder, terms, salt)).toBe(bidCommitment(domain, bidder, terms, salt));
    expect(bidCommitment(domain, bidder, terms, newSalt())).not.toBe(bidCommitment(domain, bidder, terms, salt));
  });

  it("change with every term", () => {
    const salt = newSalt();
    const base = bidCommitment(domain, bidder, terms, salt);
    const variants: Partial<BidTerms>[] = [
      { roundId: 4 },
      { offerId: 8 },
      { profileId: 2 },
      { start: terms.start + 1 },
      { duration: 3600 },
      { pricePerHour: terms.pricePerHour + 1n },
      { replacesLease: 1 },
    ];
    for (const change of variants) expect(bidCommitment(domain, bidder, { ...terms, ...change }, salt)).not.toBe(base);
  });

  it("seal a bid whose deposit covers it, hiding the price behind a larger deposit", () => {
    const deposit = parseCredits("100");
    const bid = sealBid(domain, bidder, terms, deposit);
    expect(maxBidCost(terms)).toBe(parseCredits("6"));
    expect(bid.deposit).toBe(deposit);
    expect(checkSealedBid(domain, bid)).toBe(true);
    expect(checkSealedBid(domain, { ...bid, salt: newSalt() })).toBe(false);
    expect(checkSealedBid({ ...domain, chainId: 1 }, bid)).toBe(false);
  });

  it("keep their terms through JSON storage, so a stored bid reveals to the same commitment", () => {
    const salt = newSalt();
    const stored = JSON.parse(JSON.stringify(storeTerms(terms))) as ReturnType<typeof storeTerms>;
    expect(stored.pricePerHour).toBe("4000000");
    expect(termsFromStore(stored)).toEqual(terms);
    expect(bidCommitment(domain, bidder, termsFromStore(stored), salt)).toBe(
      bidCommitment(domain, bidder, terms, salt),
    );
  });

  it("refuse a deposit that cannot cover the bid", () => {
    expect(() => sealBid(domain, bidder, terms, parseCredits("5.99"))).toThrow(BidExceedsDepositError);
  });

  it("refuse terms outside the contract's ranges", () => {
    expect(() => bidCommitment(domain, bidder, { ...terms, duration: 0 }, newSalt())).toThrow(/duration/);
    expect(() => bidCommitment(domain, bidder, { ...terms, profileId: 70_000 }, newSalt())).toThrow(/profileId/);
    expect(() => bidCommitment(domain, bidder, { ...terms, pricePerHour: 2n ** 64n }, newSalt())).toThrow(
      /pricePerHour/,
    );
  });
});
