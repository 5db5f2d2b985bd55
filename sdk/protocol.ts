/**
 * The protocol's arithmetic, once, as the Solidity libraries do it (`Pricing`, `DailyWindow`,
 * `Settlement`): what the gateway, the CLI and the portal show is what the contracts compute, to
 * the base unit. Pure and browser-safe; `test/sdk/protocol.test.ts` checks each function against
 * the Solidity library on random inputs.
 */
import { EndReason } from "./enums.js";

const SECONDS_PER_HOUR = 3600n;
const SECONDS_PER_DAY = 86_400n;
const BPS = 10_000n;

/** `Pricing.cost`: what `duration` seconds cost at `pricePerHour`, rounded down. */
export function leaseCost(pricePerHour: bigint, duration: bigint | number): bigint {
  return (pricePerHour * BigInt(duration)) / SECONDS_PER_HOUR;
}

/**
 * `Pricing.dynamicPrice`: a dynamic offer's base price risen with the share of its slices booked,
 * capped at `surgeBps` when all are.
 */
export function dynamicPrice(base: bigint, surgeBps: bigint, booked: bigint, capacity: bigint): bigint {
  if (capacity === 0n) return base;
  const sold = booked < capacity ? booked : capacity;
  return base + (base * surgeBps * sold) / (BPS * capacity);
}

/** `Pricing.share`: `part / whole` of `total`, rounded down; nothing of an empty whole. */
export function share(total: bigint, part: bigint, whole: bigint): bigint {
  return whole === 0n ? 0n : (total * part) / whole;
}

/** `DailyWindow.contains`: `[start, end)` lies inside the daily hours `fromHour` to `toHour` (UTC). */
export function withinDailyWindow(fromHour: number, toHour: number, start: number, end: number): boolean {
  if (fromHour === toHour) return true;
  const from = BigInt(fromHour);
  const to = BigInt(toHour);
  const begins = BigInt(start);
  const day = begins - (begins % SECONDS_PER_DAY);
  let opensAt = day + from * SECONDS_PER_HOUR;
  let closesAt: bigint;
  if (from < to) closesAt = day + to * SECONDS_PER_HOUR;
  else if (begins >= opensAt) closesAt = day + SECONDS_PER_DAY + to * SECONDS_PER_HOUR;
  else {
    closesAt = day + to * SECONDS_PER_HOUR;
    opensAt = day;
  }
  return begins >= opensAt && BigInt(end) <= closesAt;
}

/** A lease as settlement sees it: unix seconds, base units. */
export interface SettledLease {
  start: bigint;
  end: bigint;
  sliceSeconds: bigint;
  cost: bigint;
  /** When the agent reported the node provisioned; 0 if it never did. */
  provisionedAt: bigint;
}

/**
 * `Settlement.divide`: what the seller is paid of a lease ending at `at` for `reason`, and when
 * the node's calendar frees. Paid time runs from provisioning (never before the start) to the
 * stop; a buyer's release pays to the end of the slice under way.
 */
export function divide(
  lease: SettledLease,
  reason: (typeof EndReason)[keyof typeof EndReason],
  at: bigint,
): { paid: bigint; stop: bigint } {
  const { start, end, sliceSeconds, cost, provisionedAt } = lease;
  let stop: bigint;
  if (reason === EndReason.Expired || at >= end) stop = end;
  else if (at <= start) stop = start;
  else if (reason === EndReason.Released) {
    const slicesStarted = (at - start + sliceSeconds - 1n) / sliceSeconds;
    stop = start + slicesStarted * sliceSeconds;
    if (stop > end) stop = end;
  } else stop = at;
  if (provisionedAt === 0n) return { paid: 0n, stop };
  const deliveredFrom = provisionedAt > start ? provisionedAt : start;
  if (stop <= deliveredFrom) return { paid: 0n, stop };
  return { paid: share(cost, stop - deliveredFrom, end - start), stop };
}

/**
 * `Settlement.cancellationFee`: what backing out of a lease of `cost` before its start costs, at
 * `bps` basis points (the buyer pays it to the treasury, an owner who preempts pays it to the buyer).
 */
export function cancellationFee(cost: bigint, bps: bigint): bigint {
  return (cost * bps) / BPS;
}

/**
 * What a running lease has delivered by `now` and what that costs, as settlement would pay it
 * were the lease to stop then: time counts from provisioning, never before the start.
 */
export function deliveredSoFar(
  lease: Omit<SettledLease, "sliceSeconds">,
  now: bigint,
): { seconds: bigint; accrued: bigint } {
  if (lease.provisionedAt === 0n) return { seconds: 0n, accrued: 0n };
  const from = lease.provisionedAt > lease.start ? lease.provisionedAt : lease.start;
  const until = now < lease.end ? now : lease.end;
  if (until <= from) return { seconds: 0n, accrued: 0n };
  return { seconds: until - from, accrued: share(lease.cost, until - from, lease.end - lease.start) };
}
