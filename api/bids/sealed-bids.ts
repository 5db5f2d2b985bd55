import { randomUUID } from "node:crypto";

import type { Provider } from "ethers";

import {
  CommitPhaseEndingError,
  MarketRevertError,
  clearRoundInChunks,
  commitRound,
  maxBidCost,
  nextSealedState,
  paddedDeposit,
  planRevealBurst,
  revealWindow,
  roundAt,
  sealBid,
  sealedStep,
  errorMessage,
  latestBlockGasLimit,
  withDecodedRevert,
  withGasHeadroom,
  type BidTerms,
  type ChainNow,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
  type SealedEvent,
  type SealedState,
} from "../../sdk/index.js";
import type { Logger } from "../../sdk/log.js";
import type { Db } from "../db/database.js";
import { conflict } from "../errors.js";
import type { MasterKey } from "../identity/secrets.js";
import type { User, Users } from "../identity/users.js";
import { findBid, findBidByTerms, type BidRow } from "../readmodel/bids.js";
import { repeat, type Repeating } from "../repeat.js";
import { withCredits, type Send, type Submit, type Submitted } from "../transactions.js";

/**
 * Where a gateway-held sealed bid is, in the sdk's lifecycle (`SEALED_TRANSITIONS`). The gateway
 * reads each outcome from its read model, so its bids end `matched` or `unmatched`, never `cleared`.
 */
export type SealedBidState = Exclude<SealedState, "cleared">;

export interface SealedBidView {
  bidRef: string;
  userId: string;
  bidder: string;
  roundId: number;
  commitment: string;
  deposit: bigint;
  state: SealedBidState;
  /** The bid's terms: shown to its owner only. */
  terms: BidTerms;
  bidId: number | null;
  leaseId: number | null;
  error: string | null;
  createdAt: number;
}

interface Row {
  bid_ref: string;
  user_id: string;
  bidder: string;
  round_id: number;
  commitment: string;
  deposit: string;
  sealed: string;
  state: SealedBidState;
  bid_id: number | null;
  lease_id: number | null;
  error: string | null;
  /** The image a won lease boots: revealed with the bid, so clearing creates the lease with it. */
  image: string | null;
  created_at: number;
}

/**
 * Gas for a commit, sent without an estimate: a commit costs about 55,000 gas whatever the bid (one
 * fresh slot and one account slot), so the estimate's extra round trip to the chain buys nothing.
 * The checks it would make are made here first (the round's window) or found from the receipt (a
 * revert is replayed to name its error).
 */
const COMMIT_GAS_LIMIT = 120_000n;
/** A bid stored this long ago (wall clock) and still not committed is looked for on-chain: its commit was lost. */
const SEALED_GRACE_SECONDS = 60;

/** The most bids a clearing transaction is tried with; `clearingChunk` halves it to fit a block. */
const CLEARING_CHUNK = 64;
/** Reveals prepared (hint and gas estimate) at once; they are then submitted one after another. */
const PREPARE_CONCURRENCY = 32;

export interface SealedBidDeps {
  db: Db;
  master: MasterKey;
  users: Users;
  deployment: Deployment;
  market: MarketContracts;
  provider: Provider;
  clock(): Promise<ChainNow>;
  send: Send;
  submit: Submit;
  logger: Logger;
  /** Whether these bids' rounds are cleared here; false where the gateway's keeper clears them. */
  clearsRounds: boolean;
}

/** A reveal ready to submit: its row, owner, terms and the transaction's hint and gas. */
interface PreparedReveal {
  row: Row;
  user: User;
  terms: BidTerms;
  salt: string;
  pricePerHour: bigint;
  committedAt: number;
  /** The hint to send (`planRevealBurst`). */
  hint: number;
  /** The chain's hint as read before the burst: right whatever lands first. */
  chainHint: number;
  gasLimit: bigint;
}

/**
 * Sealed bids the gateway places for its users. The terms and salt are sealed with the master key
 * and stored before the commit is sent, so a crash can never lose them; a loop reveals each round's
 * bids in its reveal window and clears the round afterwards, resuming from the table after a restart.
 *
 * Reveals are pipelined: every reveal due is prepared at once and submitted in one burst, cheapest
 * first (so that each one's hint, read before the burst, stays exact as the burst lands), and their
 * outcomes are reconciled from the receipts. One block can take a whole round's reveals.
 */
export class SealedBids {
  readonly #deps: SealedBidDeps;
  readonly #minCommitSecondsLeft: number;
  /** Bids whose commit or reveal is on its way: left alone by passes until its outcome is known. */
  readonly #inFlight = new Set<string>();
  /** Reveals on their way, per round. */
  readonly #revealingRounds = new Map<number, number>();
  /** Outcomes of reveals on their way; a pass does not wait for them. */
  readonly #outcomes = new Set<Promise<void>>();
  #loop: Repeating | undefined;

  private constructor(deps: SealedBidDeps, minCommitSecondsLeft: number) {
    this.#deps = deps;
    this.#minCommitSecondsLeft = minCommitSecondsLeft;
  }

  static async open(deps: SealedBidDeps, minCommitSecondsLeft: number): Promise<SealedBids> {
    return new SealedBids(deps, minCommitSecondsLeft);
  }

  /** The round whose commit window is open at `now`. */
  roundAt(now: number): number {
    return roundAt(this.#deps.deployment.schedule, now);
  }

  /** `[opensAt, closesAt)` of `roundId`'s reveal window, as `SealedBidAuction.revealWindow`. */
  revealWindow(roundId: number): { opensAt: number; closesAt: number } {
    return revealWindow(this.#deps.deployment.schedule, roundId);
  }

  /**
   * Seals, stores and commits a bid for `user` in the round open when the commit is mined; the
   * deposit, unless given, is padded to the bid's bucket within what the user can spend
   * (`paddedDeposit`), so that it does not give the price away. A lease the bid wins boots `image`.
   */
  async place(
    user: User,
    terms: Omit<BidTerms, "roundId">,
    deposit: bigint | undefined,
    image: string,
  ): Promise<SealedBidView> {
    let roundId: number;
    try {
      roundId = commitRound(this.#deps.deployment.schedule, await this.#deps.clock(), this.#minCommitSecondsLeft);
    } catch (error) {
      throw error instanceof CommitPhaseEndingError ? conflict(error.message) : error;
    }
    const full: BidTerms = { ...terms, roundId };
    const domain = { chainId: this.#deps.deployment.chainId, market: this.#deps.deployment.contracts.market };
    const bid = sealBid(domain, user.address, full, deposit ?? (await this.#paddedDeposit(user, maxBidCost(full))));
    const bidRef = randomUUID();
    const sealed = this.#deps.master.seal("bid", bidRef, JSON.stringify({ terms: termsToJson(full), salt: bid.salt }));
    const at = Math.floor(Date.now() / 1000);
    // Stored before the commit is sent: whatever happens next, the salt is never lost.
    await this.#deps.db.run(
      `INSERT INTO sealed_bids (bid_ref, user_id, bidder, round_id, commitment, deposit, sealed, state, image,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sealed', $8, $9, $9)`,
      [bidRef, user.userId, user.address, roundId, bid.commitment, bid.deposit.toString(), sealed, image, at],
    );
    this.#inFlight.add(bidRef);
    try {
      await withCredits(this.#deps, user, () =>
        // The answer comes from this table, not the read model: no need to wait for the indexer.
        this.#deps.send(
          user,
          (c) => c.market.commitBid(bid.commitment, bid.deposit, roundId, { gasLimit: COMMIT_GAS_LIMIT }),
          { awaitReadModel: false },
        ),
      );
      await this.#move(bidRef, "sealed", "commitLanded");
    } catch (error) {
      await this.#move(bidRef, "sealed", "commitLost", { error: errorMessage(error) });
      if (error instanceof MarketRevertError && error.revert.name === "NotCommitPhase") {
        throw conflict(
          `round ${roundId} stopped taking bids while the bid was on its way (nothing was escrowed); send it again`,
        );
      }
      throw error;
    } finally {
      this.#inFlight.delete(bidRef);
    }
    // What the row now says, from what was just stored: not read back and its seal opened again.
    return {
      bidRef,
      userId: user.userId,
      bidder: user.address,
      roundId,
      commitment: bid.commitment,
      deposit: bid.deposit,
      state: "committed",
      terms: full,
      bidId: null,
      leaseId: null,
      error: null,
      createdAt: at,
    };
  }

  async get(bidRef: string): Promise<SealedBidView | undefined> {
    const row = await this.#deps.db.get<Row>("SELECT * FROM sealed_bids WHERE bid_ref = $1", [bidRef]);
    return row === undefined ? undefined : this.#view(row);
  }

  async list(filter: { userId?: string; state?: SealedBidState }): Promise<SealedBidView[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.userId !== undefined) where.push(`user_id = $${params.push(filter.userId)}`);
    if (filter.state !== undefined) where.push(`state = $${params.push(filter.state)}`);
    const rows = await this.#deps.db.all<Row>(
      `SELECT * FROM sealed_bids ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, bid_ref`,
      params,
    );
    return rows.map((row) => this.#view(row));
  }

  /** Starts revealing and clearing in the background. */
  start(intervalMs: number): void {
    this.#loop = repeat(
      () => this.advance(),
      intervalMs,
      (error) => this.#deps.logger.warn("sealed bids: the chain is not answering; will try again", { error }),
    );
  }

  /** Stops the loop and waits for the reveals on their way. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    await Promise.all(this.#outcomes);
  }

  /**
   * One pass: settles stale commits, submits every reveal that is due, and clears rounds whose
   * reveal window closed. Each bid is judged against the chain's clock as of its own step.
   */
  async advance(): Promise<void> {
    const now = await this.#deps.clock();
    // Only bids with something to do: a committed or revealed bid once its round's reveal window
    // opened (the next round takes commits), a stored bid once its commit had time to land.
    // Reading every open bid each pass was thousands of rows while a round took commits.
    const open = await this.#deps.db.all<Row>(
      `SELECT * FROM sealed_bids
       WHERE (state = 'sealed' AND created_at <= $1) OR (state IN ('committed', 'revealed') AND round_id < $2)
       ORDER BY round_id, created_at`,
      [Math.floor(Date.now() / 1000) - SEALED_GRACE_SECONDS, this.roundAt(now.head)],
    );
    const due: Row[] = [];
    const clearing = new Map<number, Row[]>();
    for (const row of open) {
      // A commit or reveal on its way is settled by its own outcome.
      if (this.#inFlight.has(row.bid_ref)) continue;
      const roundId = Number(row.round_id);
      const step = sealedStep({ state: row.state, roundId }, this.#deps.deployment.schedule, now);
      try {
        if (step.action === "confirm") await this.#settleSealed(row, now.head);
        else if (step.action === "miss") {
          await this.#missed(
            row,
            "its reveal window closes before the next block: a reveal sent now could not make it",
          );
        } else if (step.action === "reveal") due.push(row);
        else if (step.action === "clear") {
          const rows = clearing.get(roundId) ?? [];
          rows.push(row);
          clearing.set(roundId, rows);
        }
      } catch (error) {
        // One bid's trouble (a node down, a refused transaction) must not hold up the others.
        this.#deps.logger.warn("sealed bid: will try again", { bidRef: row.bid_ref, error });
      }
    }
    if (due.length > 0) await this.#revealAll(due);
    for (const [roundId, rows] of clearing) {
      try {
        await this.#clear(roundId, rows);
      } catch (error) {
        this.#deps.logger.warn("sealed bids: clearing failed; will try again", { roundId, error });
      }
    }
  }

  /** The default deposit: the bucket above `cost`, or all the user can spend when that is less. */
  async #paddedDeposit(user: User, cost: bigint): Promise<bigint> {
    const { market, credits } = this.#deps.market;
    const [account, wallet] = await Promise.all([
      market.accountOf(user.address),
      // A custodial user's wallet credits are moved into the market when a commit needs them.
      user.custodial ? credits.balanceOf(user.address) : 0n,
    ]);
    return paddedDeposit(cost, account.available + wallet);
  }

  /** A bid stored but never confirmed (a crash between storing and committing): look on-chain. */
  async #settleSealed(row: Row, now: number): Promise<void> {
    const commit = await this.#deps.market.market.commitOf(row.bidder, row.commitment);
    if (commit.deposit > 0n)
      await this.#move(row.bid_ref, row.state, "commitLanded", { round_id: Number(commit.roundId) });
    else if (now >= this.revealWindow(Number(row.round_id)).opensAt) {
      await this.#move(row.bid_ref, row.state, "commitLost", { error: "the commit never reached the chain" });
    }
  }

  /** Prepares every due reveal at once, then submits them in one burst, cheapest first. */
  async #revealAll(due: Row[]): Promise<void> {
    // A round's burst is planned from its count of revealed bids: not while reveals of an earlier
    // burst are still on their way, which that count does not hold yet.
    const rows = due.filter((row) => !this.#revealingRounds.has(Number(row.round_id)));
    const prepared: PreparedReveal[] = [];
    // Read once for the whole burst, not once per reveal: the limit moves slowly, if at all.
    const blockGasLimit = rows.length === 0 ? 0n : await latestBlockGasLimit(this.#deps.provider);
    for (let i = 0; i < rows.length; i += PREPARE_CONCURRENCY) {
      const batch = rows.slice(i, i + PREPARE_CONCURRENCY);
      const results = await Promise.allSettled(batch.map((row) => this.#prepareReveal(row, blockGasLimit)));
      results.forEach((result, j) => {
        if (result.status === "fulfilled" && result.value !== undefined) prepared.push(result.value);
        else if (result.status === "rejected") void this.#revealFailed(batch[j] as Row, result.reason);
      });
    }
    const rounds = new Map<number, PreparedReveal[]>();
    for (const reveal of prepared) {
      const reveals = rounds.get(reveal.terms.roundId) ?? [];
      reveals.push(reveal);
      rounds.set(reveal.terms.roundId, reveals);
    }
    for (const [roundId, reveals] of rounds) {
      const { revealed } = await this.#deps.market.market.roundOf(roundId);
      await this.#submitBurst(planRevealBurst(Number(revealed), reveals));
    }
  }

  /**
   * Submits a round's reveals one after another (each waits only for the node to take it), so that
   * they reach the chain in the planned order; their outcomes are tracked in the background.
   */
  async #submitBurst(burst: readonly PreparedReveal[]): Promise<void> {
    // One gas limit for the whole burst: a block filled up to a smaller limit than the next
    // reveal's would take a later one first, and every id the plan predicted after it would shift.
    const gasLimit = burst.reduce((most, reveal) => (reveal.gasLimit > most ? reveal.gasLimit : most), 0n);
    // Planned hints assume every reveal before lands in order; after a refusal, the chain's own.
    let inOrder = true;
    for (const reveal of burst) {
      const roundId = reveal.terms.roundId;
      this.#inFlight.add(reveal.row.bid_ref);
      this.#revealingRounds.set(roundId, (this.#revealingRounds.get(roundId) ?? 0) + 1);
      const hint = inOrder ? reveal.hint : reveal.chainHint;
      let submitted: Submitted;
      try {
        submitted = await this.#deps.submit(reveal.user, (c) =>
          c.market.revealBid(reveal.terms, reveal.salt, hint, reveal.row.image ?? "", { gasLimit }),
        );
      } catch (error) {
        inOrder = false;
        this.#landed(roundId);
        this.#inFlight.delete(reveal.row.bid_ref);
        await this.#revealFailed(reveal.row, error);
        continue;
      }
      this.#track(
        submitted.mined.then(
          (sent) => this.#revealed(reveal.row, sent.events),
          (error: unknown) => this.#revealFailed(reveal.row, error),
        ),
        reveal.row.bid_ref,
        roundId,
      );
    }
  }

  /** One reveal of `roundId` is no longer on its way. */
  #landed(roundId: number): void {
    const left = (this.#revealingRounds.get(roundId) ?? 1) - 1;
    if (left > 0) this.#revealingRounds.set(roundId, left);
    else this.#revealingRounds.delete(roundId);
  }

  /** The reveal's hint and gas; undefined when it is not to be sent (its user is gone). */
  async #prepareReveal(row: Row, blockGasLimit: bigint): Promise<PreparedReveal | undefined> {
    const user = await this.#deps.users.byId(row.user_id);
    if (user === undefined) return undefined;
    const { terms, salt } = this.#open(row);
    const { market } = this.#deps.market;
    const [hint, commit] = await Promise.all([
      market.insertionHint(terms.roundId, terms.pricePerHour, row.bidder, row.commitment).then(Number),
      market.commitOf(row.bidder, row.commitment),
    ]);
    const estimate = await withDecodedRevert(() =>
      market.revealBid.estimateGas(terms, salt, hint, row.image ?? "", { from: user.address }),
    );
    const gasLimit = withGasHeadroom(estimate, blockGasLimit);
    return {
      row,
      user,
      terms,
      salt,
      pricePerHour: terms.pricePerHour,
      committedAt: Number(commit.committedAt),
      hint,
      chainHint: hint,
      gasLimit,
    };
  }

  async #revealed(row: Row, events: readonly MarketEvent[]): Promise<void> {
    const revealed = events.find((event) => event.name === "BidRevealed");
    await this.#move(row.bid_ref, row.state, "revealLanded", {
      bid_id: revealed === undefined ? null : Number(revealed.args.bidId),
    });
    this.#deps.logger.info("sealed bid revealed", { bidRef: row.bid_ref, roundId: Number(row.round_id) });
  }

  /**
   * A reveal that was refused or reverted: revealed already (by the user's own wallet, or a
   * reveal whose answer was lost), too late for good (missed), or worth another try next pass.
   */
  async #revealFailed(row: Row, error: unknown): Promise<void> {
    try {
      const commit = await this.#deps.market.market.commitOf(row.bidder, row.commitment);
      if (commit.deposit === 0n) {
        await this.#move(row.bid_ref, row.state, "revealLanded");
        return;
      }
      // The clock is read again: the reveal may have been mined in a block past the window.
      const step = sealedStep(
        { state: "committed", roundId: Number(row.round_id) },
        this.#deps.deployment.schedule,
        await this.#deps.clock(),
      );
      if (step.action === "miss") {
        await this.#missed(row, `the reveal did not make its window: ${errorMessage(error)}`);
        return;
      }
    } catch (checking) {
      this.#deps.logger.warn("sealed bid: could not check a failed reveal", { bidRef: row.bid_ref, error: checking });
    }
    this.#deps.logger.warn("sealed bid: reveal failed; will try again", { bidRef: row.bid_ref, error });
  }

  /** Reported, never silent: the bid loses its penalty when forfeited, and its owner sees why. */
  async #missed(row: Row, why: string): Promise<void> {
    await this.#move(row.bid_ref, row.state, "windowMissed", { error: why });
    this.#deps.logger.error("sealed bid missed its reveal window", {
      bidRef: row.bid_ref,
      roundId: Number(row.round_id),
      why,
    });
  }

  /** Clears `roundId` (in chunks that fit a block) and records what came of the gateway's bids in it. */
  async #clear(roundId: number, rows: Row[]): Promise<void> {
    const { market } = this.#deps.market;
    if (!(await market.isRoundCleared(roundId))) {
      // Where the gateway runs a keeper, the keeper clears: two clearers would race chunk for chunk.
      if (!this.#deps.clearsRounds) return;
      const user = await this.#firstUser(rows);
      if (user === undefined) return;
      await clearRoundInChunks(
        {
          isCleared: () => market.isRoundCleared(roundId),
          estimate: (maxBids) =>
            withDecodedRevert(() => market.clearRound.estimateGas(roundId, maxBids, { from: user.address })),
          send: async (chunk) => {
            await this.#deps.send(user, (c) =>
              c.market.clearRound(roundId, chunk.maxBids, { gasLimit: chunk.gasLimit }),
            );
          },
          blockGasLimit: () => latestBlockGasLimit(this.#deps.provider),
        },
        CLEARING_CHUNK,
      );
    }
    for (const row of rows) {
      const outcome = await this.#outcomeOf(row);
      if (outcome === undefined || outcome.state === "revealed") continue;
      const leaseId = outcome.lease_id === null ? null : Number(outcome.lease_id);
      await this.#move(row.bid_ref, row.state, outcome.state === "matched" ? "won" : "lost", { lease_id: leaseId });
    }
  }

  /** What clearing made of a bid, from the read model. */
  async #outcomeOf(row: Row): Promise<BidRow | undefined> {
    const roundId = Number(row.round_id);
    if (row.bid_id !== null) return findBid(this.#deps.db, roundId, Number(row.bid_id));
    // Revealed by another hand: the bid is the bidder's one in the round with these terms.
    const { terms } = this.#open(row);
    return findBidByTerms(this.#deps.db, row.bidder, terms);
  }

  async #firstUser(rows: readonly Row[]): Promise<User | undefined> {
    for (const row of rows) {
      const user = await this.#deps.users.byId(row.user_id);
      if (user?.custodial === true) return user;
    }
    return undefined;
  }

  #track(outcome: Promise<void>, bidRef: string, roundId: number): void {
    const tracked = outcome
      .catch((error: unknown) => this.#deps.logger.warn("sealed bid: reveal outcome unknown", { bidRef, error }))
      .finally(() => {
        this.#inFlight.delete(bidRef);
        this.#landed(roundId);
        this.#outcomes.delete(tracked);
      });
    this.#outcomes.add(tracked);
  }

  #open(row: Row): { terms: BidTerms; salt: string } {
    const opened = JSON.parse(this.#deps.master.open("bid", row.bid_ref, row.sealed)) as {
      terms: Record<string, string | number>;
      salt: string;
    };
    return { terms: termsFromJson(opened.terms), salt: opened.salt };
  }

  #view(row: Row): SealedBidView {
    return {
      bidRef: row.bid_ref,
      userId: row.user_id,
      bidder: row.bidder,
      roundId: Number(row.round_id),
      commitment: row.commitment,
      deposit: BigInt(row.deposit),
      state: row.state,
      terms: this.#open(row).terms,
      bidId: row.bid_id === null ? null : Number(row.bid_id),
      leaseId: row.lease_id === null ? null : Number(row.lease_id),
      error: row.error,
      createdAt: Number(row.created_at),
    };
  }

  /** Moves a bid along the lifecycle's table (a move it lacks throws), with the fields that came with it. */
  async #move(
    bidRef: string,
    from: SealedBidState,
    event: SealedEvent,
    fields: Partial<Pick<Row, "round_id" | "bid_id" | "lease_id" | "error">> = {},
  ): Promise<void> {
    const entries = Object.entries({ ...fields, state: nextSealedState(from, event) });
    await this.#deps.db.run(
      `UPDATE sealed_bids SET ${entries.map(([key], i) => `${key} = $${i + 2}`).join(", ")}, updated_at = $${entries.length + 2}
       WHERE bid_ref = $1`,
      [bidRef, ...entries.map(([, value]) => value ?? null), Math.floor(Date.now() / 1000)],
    );
  }
}

function termsToJson(terms: BidTerms): Record<string, string | number> {
  return { ...terms, pricePerHour: terms.pricePerHour.toString() };
}

function termsFromJson(json: Record<string, string | number>): BidTerms {
  return {
    roundId: Number(json.roundId),
    offerId: Number(json.offerId),
    profileId: Number(json.profileId),
    start: Number(json.start),
    duration: Number(json.duration),
    pricePerHour: BigInt(json.pricePerHour ?? 0),
    replacesLease: Number(json.replacesLease),
  };
}
