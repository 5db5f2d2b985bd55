import { CREDIT_DECIMALS } from "./units.js";

const ONE_CREDIT = 10n ** BigInt(CREDIT_DECIMALS);
/** Each decade of credits holds three buckets: 1, 2 and 5 times a power of ten. */
const BUCKET_STEPS = [1n, 2n, 5n] as const;

/**
 * The deposit bucket a bid costing `cost` falls in: the smallest of 1, 2, 5, 10, 20, 50, ... credits
 * that covers it. Everyone's deposit is on chain from the commit on; a bucket says only that the
 * price lies within a factor of 2.5 of it, where an exact deposit would give the price away.
 */
export function depositBucket(cost: bigint): bigint {
  if (cost <= 0n) throw new RangeError(`a bid's cost is positive, not ${cost}`);
  for (let decade = ONE_CREDIT; ; decade *= 10n) {
    for (const step of BUCKET_STEPS) if (step * decade >= cost) return step * decade;
  }
}

/**
 * The deposit every client sends unless told otherwise: the bid's bucket, or all of `available`
 * when that covers the bid but not the bucket (a deposit equal to one's balance says no more than
 * that the price fits in it).
 */
export function paddedDeposit(cost: bigint, available?: bigint): bigint {
  const bucket = depositBucket(cost);
  return available !== undefined && available >= cost && available < bucket ? available : bucket;
}
