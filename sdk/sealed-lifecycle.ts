import type { ChainNow } from "./chain-clock.js";
import { revealWindow, roundAt, type AuctionScheduleOf } from "./rounds.js";

/**
 * The sealed-bid lifecycle, once for every client that holds a salt (the gateway for its custodial
 * users, the CLI's bids file, the portal's browser storage): where a bid is, what moves it on, and
 * what to do about it now. Pure and browser-safe; each client brings its own store and chain calls.
 *
 * `sealed`: terms and salt stored, the commit's fate not yet known; `committed`: on-chain, waiting
 * for its reveal window; `revealed`: waiting for clearing; then `matched` or `unmatched` (or
 * `cleared` where the client learns the outcome from the leases); `failed`: the commit never
 * landed; `missed`: the reveal window passed (the deposit is forfeited, less the penalty).
 */
export type SealedState =
  "sealed" | "committed" | "revealed" | "matched" | "unmatched" | "cleared" | "failed" | "missed";

/** What happens to a sealed bid: the edges of the transition table. */
export type SealedEvent =
  "commitLanded" | "commitLost" | "revealLanded" | "windowMissed" | "roundCleared" | "won" | "lost";

/** Every move a sealed bid can make, as Ironic writes its node states: anything else is a bug. */
export const SEALED_TRANSITIONS: { readonly [S in SealedState]: { readonly [E in SealedEvent]?: SealedState } } = {
  sealed: { commitLanded: "committed", commitLost: "failed" },
  committed: { revealLanded: "revealed", windowMissed: "missed" },
  revealed: { roundCleared: "cleared", won: "matched", lost: "unmatched" },
  cleared: { won: "matched", lost: "unmatched" },
  matched: {},
  unmatched: {},
  failed: {},
  missed: {},
};

/** A move the table does not have: a client asked for a transition its bid cannot make. */
export class SealedTransitionError extends Error {
  constructor(
    readonly state: SealedState,
    readonly event: SealedEvent,
  ) {
    super(`a sealed bid that is ${state} cannot take "${event}"`);
    this.name = "SealedTransitionError";
  }
}

/** The state `event` moves a bid in `state` to. */
export function nextSealedState(state: SealedState, event: SealedEvent): SealedState {
  const next = SEALED_TRANSITIONS[state][event];
  if (next === undefined) throw new SealedTransitionError(state, event);
  return next;
}

/**
 * What to do for a sealed bid now. `confirm`: look on-chain for a commit whose answer was lost;
 * `wait`: nothing before chain time `until`; `reveal`: send the reveal (it must be mined before
 * `closesAt`); `miss`: the window can no longer be made, report it (`windowMissed`); `clear`: the
 * window closed, clear the round (if nobody has) and learn the outcome; `none`: the bid is settled.
 */
export type SealedStep =
  | { action: "confirm" }
  | { action: "wait"; until: number }
  | { action: "reveal"; closesAt: number }
  | { action: "miss"; closedAt: number }
  | { action: "clear" }
  | { action: "none" };

/**
 * The step for a bid in round `roundId` at chain time `now`. A reveal is sent once the head is in
 * the window (a transaction is judged on the block that mines it, which cannot come earlier) and
 * only while the next block can still carry it (`now.next`, one block period of margin): what
 * cannot make the window is a miss, reported, never a reveal that reverts.
 */
export function sealedStep(
  bid: { state: SealedState; roundId: number },
  schedule: AuctionScheduleOf,
  now: Pick<ChainNow, "head" | "next">,
): SealedStep {
  const { opensAt, closesAt } = revealWindow(schedule, bid.roundId);
  switch (bid.state) {
    case "sealed":
      return { action: "confirm" };
    case "committed":
      if (now.next >= closesAt) return { action: "miss", closedAt: closesAt };
      return now.head < opensAt ? { action: "wait", until: opensAt } : { action: "reveal", closesAt };
    case "revealed":
      return now.head < closesAt ? { action: "wait", until: closesAt } : { action: "clear" };
    default:
      return { action: "none" };
  }
}

/** Raised when a round takes no more commits in time: the bid is to be sent in the next one. */
export class CommitPhaseEndingError extends Error {
  constructor(
    readonly roundId: number,
    readonly secondsLeft: number,
  ) {
    super(`round ${roundId} stops taking bids in ${secondsLeft} s; send the bid again when round ${roundId + 1} opens`);
    this.name = "CommitPhaseEndingError";
  }
}

/**
 * The round a commit sent now is to name: the one open when the next block comes (`now.next`),
 * provided its commit phase stays open `marginSeconds` (at least a block period) beyond it, else a
 * `CommitPhaseEndingError`. Terms sealed for a round the commit cannot make would be refused.
 */
export function commitRound(
  schedule: AuctionScheduleOf,
  now: Pick<ChainNow, "head" | "next" | "blockSeconds">,
  marginSeconds = 0,
): number {
  const roundId = roundAt(schedule, now.next);
  const { opensAt: commitClosesAt } = revealWindow(schedule, roundId);
  if (commitClosesAt - now.next < Math.max(marginSeconds, now.blockSeconds)) {
    throw new CommitPhaseEndingError(roundId, Math.max(0, commitClosesAt - now.head));
  }
  return roundId;
}

/** A sealed bid as a client keeps it: at least its state and the round its terms name. */
export interface KeptSealedBid {
  state: SealedState;
  terms: { roundId: number | string };
}

/** Where a client keeps its sealed bids (a file, browser storage): written before anything is sent. */
export interface SealedBidStore<B extends KeptSealedBid> {
  list(): Promise<readonly B[]> | readonly B[];
  save(bid: B): Promise<void> | void;
}

/** The chain calls a client makes for its sealed bids; each resolves once its transaction is mined. */
export interface SealedBidCalls<B extends KeptSealedBid> {
  now(): Promise<Pick<ChainNow, "head" | "next">>;
  reveal(bid: B): Promise<void>;
  /** Clears the round in chunks until it is cleared (whoever clears it). */
  clear(roundId: number): Promise<void>;
  /** Whether a `sealed` bid's commit is on-chain; undefined while that cannot be told yet. */
  confirm?(bid: B): Promise<"commitLanded" | "commitLost" | undefined>;
  /** What clearing made of the bid, where the client can tell; otherwise it ends `cleared`. */
  outcome?(bid: B): Promise<"won" | "lost" | undefined>;
}

/** What one pass did: each bid it moved, and each bid whose step failed (tried again next pass). */
export interface SealedPass<B> {
  moved: { bid: B; from: SealedState }[];
  failed: { bid: B; error: unknown }[];
}

/**
 * One pass over a client's sealed bids: each takes its step (`sealedStep`) and its new state is
 * saved as soon as the chain has it. One bid's failure does not hold up the others; a round is
 * cleared once per pass however many of the bids are in it.
 */
export async function advanceSealedBids<B extends KeptSealedBid>(
  store: SealedBidStore<B>,
  schedule: AuctionScheduleOf,
  calls: SealedBidCalls<B>,
): Promise<SealedPass<B>> {
  const pass: SealedPass<B> = { moved: [], failed: [] };
  const cleared = new Map<number, Promise<void>>();
  for (const bid of await store.list()) {
    const roundId = Number(bid.terms.roundId);
    try {
      const step = sealedStep({ state: bid.state, roundId }, schedule, await calls.now());
      let event: SealedEvent | undefined;
      if (step.action === "confirm") event = await calls.confirm?.(bid);
      else if (step.action === "miss") event = "windowMissed";
      else if (step.action === "reveal") {
        await calls.reveal(bid);
        event = "revealLanded";
      } else if (step.action === "clear") {
        if (!cleared.has(roundId)) cleared.set(roundId, calls.clear(roundId));
        await cleared.get(roundId);
        event = (await calls.outcome?.(bid)) ?? "roundCleared";
      }
      if (event === undefined) continue;
      const moved = { ...bid, state: nextSealedState(bid.state, event) };
      await store.save(moved);
      pass.moved.push({ bid: moved, from: bid.state });
    } catch (error) {
      pass.failed.push({ bid, error });
    }
  }
  return pass;
}
