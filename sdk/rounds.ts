import type { Deployment } from "./deployment.js";

/** A deployment's auction schedule: rounds of `commitSeconds` from `genesis`, each revealed after it. */
export type AuctionScheduleOf = Pick<Deployment["schedule"], "genesis" | "commitSeconds" | "revealSeconds">;

/** The round whose commit window is open at `now` (unix seconds), as `SealedBidAuction.currentRound`. */
export function roundAt(schedule: AuctionScheduleOf, now: number): number {
  return Math.floor((now - schedule.genesis) / schedule.commitSeconds) + 1;
}

/** `[opensAt, closesAt)` of `roundId`'s reveal window, as `SealedBidAuction.revealWindow`. */
export function revealWindow(schedule: AuctionScheduleOf, roundId: number): { opensAt: number; closesAt: number } {
  const opensAt = schedule.genesis + roundId * schedule.commitSeconds;
  return { opensAt, closesAt: opensAt + schedule.revealSeconds };
}

/**
 * A reveal to send in a burst: its price, when it was committed (`commitOf(...).committedAt`), and
 * the hint read from the chain before the burst.
 */
export interface BurstReveal {
  pricePerHour: bigint;
  committedAt: number;
  hint: number;
}

/**
 * Orders a burst of reveals for one round and gives each the hint that will be exact once the
 * reveals before it have landed, so that none walks the round's price order (a walk costs ~2,100
 * gas a step, which the gas estimate made before the burst does not foresee). The contract places
 * a bid after every bid priced above it and every bid at its price committed no later; in rising
 * price order, and by commit time within a price, a bid's place is after the last one of the burst
 * at its own price, else where the chain's hint says. Bid ids are handed out
 * in mining order from `revealedSoFar + 1`; should other reveals land in between, a hint is merely
 * a worse starting point, never a wrong answer (the contract checks it).
 */
export function planRevealBurst<T extends BurstReveal>(revealedSoFar: number, reveals: readonly T[]): T[] {
  const ordered = [...reveals].sort((a, b) =>
    a.pricePerHour < b.pricePerHour ? -1 : a.pricePerHour > b.pricePerHour ? 1 : a.committedAt - b.committedAt,
  );
  const lastAtPrice = new Map<bigint, number>();
  return ordered.map((reveal, i) => {
    const hint = lastAtPrice.get(reveal.pricePerHour) ?? reveal.hint;
    lastAtPrice.set(reveal.pricePerHour, revealedSoFar + 1 + i);
    return { ...reveal, hint };
  });
}
