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
