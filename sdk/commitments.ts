import { AbiCoder, hexlify, id, keccak256, randomBytes } from "ethers";
import { z } from "zod";

import { leaseCost } from "./protocol.js";

const uint = (bits: number) =>
  z
    .number()
    .int()
    .min(0)
    .max(2 ** bits - 1);
const uint64 = z
  .bigint()
  .min(0n)
  .max(2n ** 64n - 1n);

/** What a sealed bid says. `offerId: 0` makes it a pool bid for any node fitting `profileId` (0: any node). */
export const bidTermsSchema = z.object({
  roundId: uint(32).min(1),
  offerId: uint(32),
  profileId: uint(16),
  start: uint(32).min(1),
  duration: uint(32).min(1),
  pricePerHour: uint64.min(1n),
  replacesLease: uint(32),
});

export type BidTerms = z.infer<typeof bidTermsSchema>;

/** Bid terms as strings, for keeping a sealed bid in a file or browser storage (JSON has no bigint). */
export type StoredBidTerms = Record<keyof BidTerms, string>;

export function storeTerms(terms: BidTerms): StoredBidTerms {
  return {
    roundId: String(terms.roundId),
    offerId: String(terms.offerId),
    profileId: String(terms.profileId),
    start: String(terms.start),
    duration: String(terms.duration),
    pricePerHour: String(terms.pricePerHour),
    replacesLease: String(terms.replacesLease),
  };
}

export function termsFromStore(stored: StoredBidTerms): BidTerms {
  return {
    roundId: Number(stored.roundId),
    offerId: Number(stored.offerId),
    profileId: Number(stored.profileId),
    start: Number(stored.start),
    duration: Number(stored.duration),
    pricePerHour: BigInt(stored.pricePerHour),
    replacesLease: Number(stored.replacesLease),
  };
}

/** Where a commitment is valid: the chain and the Market contract it binds to. */
export interface CommitmentDomain {
  chainId: bigint | number;
  market: string;
}

/** A bid ready to commit: keep `terms` and `salt` secret until the reveal. */
export interface SealedBid {
  bidder: string;
  terms: BidTerms;
  salt: string;
  deposit: bigint;
  commitment: string;
}

/** Raised when a bid could cost more than its deposit, which the contract would refuse at reveal. */
export class BidExceedsDepositError extends Error {
  constructor(
    readonly maxCost: bigint,
    readonly deposit: bigint,
  ) {
    super(`bid could cost ${maxCost} but the deposit is ${deposit}`);
    this.name = "BidExceedsDepositError";
  }
}

export const BID_TYPEHASH = id(
  "Metalmarket.Bid(uint32 roundId,uint32 offerId,uint16 profileId,uint32 start,uint32 duration," +
    "uint64 pricePerHour,uint32 replacesLease)",
);
export const RESERVE_TYPEHASH = id("Metalmarket.Reserve(uint32 nodeId,uint64 pricePerHour)");

const coder = AbiCoder.defaultAbiCoder();

/** A fresh 32-byte secret. */
export function newSalt(): string {
  return hexlify(randomBytes(32));
}

/** The most a bid can cost: its price for its whole duration. */
export function maxBidCost(terms: BidTerms): bigint {
  return leaseCost(terms.pricePerHour, terms.duration);
}

/** One 32-byte ABI word, as hex without `0x`: an unsigned integer, an address or a `bytes32`. */
function word(value: bigint | number | string, kind: "uint" | "address" | "bytes32"): string {
  if (kind === "uint") return BigInt(value).toString(16).padStart(64, "0");
  const hex = String(value);
  if (!(kind === "address" ? ADDRESS : BYTES32).test(hex)) throw new TypeError(`not a valid ${kind}: ${hex}`);
  return hex.slice(2).toLowerCase().padStart(64, "0");
}
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * The commitment the Market computes for `bidder`, `terms` and `salt` (`Market.bidCommitment`):
 * the hash of `abi.encode(typehash, chain id, market, bidder, terms, salt)`. Every field is of a
 * static type, so that encoding is their words one after another, written out here directly:
 * ethers' ABI coder took ten times as long, a tenth of the gateway's work for each bid commit.
 */
export function bidCommitment(domain: CommitmentDomain, bidder: string, terms: BidTerms, salt: string): string {
  const t = bidTermsSchema.parse(terms);
  const words = [
    word(BID_TYPEHASH, "bytes32"),
    word(domain.chainId, "uint"),
    word(domain.market, "address"),
    word(bidder, "address"),
    ...[t.roundId, t.offerId, t.profileId, t.start, t.duration, t.pricePerHour, t.replacesLease].map((v) =>
      word(v, "uint"),
    ),
    word(salt, "bytes32"),
  ];
  return keccak256(`0x${words.join("")}`);
}

/** Seals a bid: validates the terms, checks the deposit covers them, and computes the commitment. */
export function sealBid(
  domain: CommitmentDomain,
  bidder: string,
  terms: BidTerms,
  deposit: bigint,
  salt: string = newSalt(),
): SealedBid {
  const maxCost = maxBidCost(terms);
  if (maxCost > deposit) throw new BidExceedsDepositError(maxCost, deposit);
  return { bidder, terms, salt, deposit, commitment: bidCommitment(domain, bidder, terms, salt) };
}

/** True when `bid.commitment` is what its terms and salt seal to, and the deposit covers the bid. */
export function checkSealedBid(domain: CommitmentDomain, bid: SealedBid): boolean {
  return (
    maxBidCost(bid.terms) <= bid.deposit && bidCommitment(domain, bid.bidder, bid.terms, bid.salt) === bid.commitment
  );
}

/** The commitment of a sealed reserve price (`Offers.reserveCommitment`). */
export function reserveCommitment(
  domain: { chainId: bigint | number; offers: string },
  seller: string,
  nodeId: number,
  reservePerHour: bigint,
  salt: string,
): string {
  return keccak256(
    coder.encode(
      ["bytes32", "uint256", "address", "address", "uint32", "uint64", "bytes32"],
      [RESERVE_TYPEHASH, domain.chainId, domain.offers, seller, nodeId, reservePerHour, salt],
    ),
  );
}
