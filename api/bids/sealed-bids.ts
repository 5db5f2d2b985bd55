import { randomUUID } from "node:crypto";

import {
  maxBidCost,
  revealWindow,
  roundAt,
  sealBid,
  type BidTerms,
  type Deployment,
  type MarketContracts,
} from "../../sdk/index.js";
import type { Db } from "../db/database.js";
import { conflict } from "../errors.js";
import type { MasterKey } from "../identity/secrets.js";
import type { User, Users } from "../identity/users.js";
import { findBid } from "../readmodel/bids.js";
import { repeat, type Repeating } from "../repeat.js";
import { withCredits, type Send } from "../transactions.js";

/**
 * Where a gateway-held sealed bid is. `sealed`: stored, commit not yet confirmed; `committed`:
 * on-chain, waiting for its reveal window; `revealed`: waiting for clearing; then `matched`,
 * `unmatched`; `failed` (the commit never made it) or `missed` (the reveal window passed).
 */
export type SealedBidState = "sealed" | "committed" | "revealed" | "matched" | "unmatched" | "failed" | "missed";

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
  /** The image a won lease boots, until it is set on the lease. */
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

/** A bid stored this long ago (wall clock) and not committed yet is looked for on-chain: its commit was lost. */
const SEALED_GRACE_SECONDS = 60;

/** Clearing is run in chunks of this many bids per transaction. */
const CLEARING_CHUNK = 50;

export interface SealedBidDeps {
  db: Db;
  master: MasterKey;
  users: Users;
  deployment: Deployment;
  market: MarketContracts;
  chainTime(): Promise<number>;
  send: Send;
  log(message: string, fields: Record<string, unknown>): void;
}

/**
 * Sealed bids the gateway places for its users. The terms and salt are sealed with the master key
 * and stored before the commit is sent, so a crash can never lose them; a loop reveals each bid in
 * its round's reveal window and clears the round afterwards, resuming from the table after a restart.
 */
export class SealedBids {
  readonly #deps: SealedBidDeps;
  readonly #minCommitSecondsLeft: number;
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
   * Seals, stores and commits a bid for `user` in the current round; the deposit is the bid's cost
   * unless given. A lease the bid wins boots `image`.
   */
  async place(
    user: User,
    terms: Omit<BidTerms, "roundId">,
    deposit: bigint | undefined,
    image: string,
  ): Promise<SealedBidView> {
    const now = await this.#deps.chainTime();
    const roundId = this.roundAt(now);
    const { opensAt: commitClosesAt } = this.revealWindow(roundId);
    if (commitClosesAt - now < this.#minCommitSecondsLeft) {
      throw conflict(
        `round ${roundId} stops taking bids in ${commitClosesAt - now} s; send the bid again when round ${roundId + 1} opens`,
      );
    }
    const full: BidTerms = { ...terms, roundId };
    const domain = { chainId: this.#deps.deployment.chainId, market: this.#deps.deployment.contracts.market };
    const bid = sealBid(domain, user.address, full, deposit ?? maxBidCost(full));
    const bidRef = randomUUID();
    const sealed = this.#deps.master.seal("bid", bidRef, JSON.stringify({ terms: termsToJson(full), salt: bid.salt }));
    const at = Math.floor(Date.now() / 1000);
    // Stored before the commit is sent: whatever happens next, the salt is never lost.
    await this.#deps.db.run(
      `INSERT INTO sealed_bids (bid_ref, user_id, bidder, round_id, commitment, deposit, sealed, state, image,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sealed', $8, $9, $9)`,
      [bidRef, user.userId, user.address, roundId, bid.commitment, bid.deposit.toString(), sealed, image, at],
    );
    try {
      const sent = await withCredits(this.#deps, user, () =>
        // The answer comes from this table, not the read model: no need to wait for the indexer.
        this.#deps.send(user, (c) => c.market.commitBid(bid.commitment, bid.deposit, { gasLimit: COMMIT_GAS_LIMIT }), {
          awaitReadModel: false,
        }),
      );
      const committed = sent.events.find((event) => event.name === "BidCommitted");
      const onChainRound = committed === undefined ? roundId : Number(committed.args.roundId);
      await this.#update(bidRef, { state: "committed", round_id: onChainRound });
      // What the row now says, from what was just stored: not read back and its seal opened again.
      return {
        bidRef,
        userId: user.userId,
        bidder: user.address,
        roundId: onChainRound,
        commitment: bid.commitment,
        deposit: bid.deposit,
        state: "committed",
        terms: full,
        bidId: null,
        leaseId: null,
        error: null,
        createdAt: at,
      };
    } catch (error) {
      await this.#update(bidRef, { state: "failed", error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
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
      (error) => this.#deps.log("sealed bids: the chain is not answering; will try again", { error }),
    );
  }

  async stop(): Promise<void> {
    await this.#loop?.stop();
  }

  /**
   * One pass: settles stale commits, reveals what is due, clears rounds whose reveal closed, and
   * names the image of each lease won.
   */
  async advance(): Promise<void> {
    const now = await this.#deps.chainTime();
    // Only bids with something to do: a committed or revealed bid once its round's reveal window
    // opened (when the next round takes commits), a stored bid once its commit had time to land.
    // Reading every open bid each pass was thousands of rows while a round ran, and a chain call
    // for every commit still in flight.
    const due = await this.#deps.db.all<Row>(
      `SELECT * FROM sealed_bids
       WHERE (state = 'sealed' AND created_at <= $1) OR (state IN ('committed', 'revealed') AND round_id < $2)
         OR (state = 'matched' AND image IS NOT NULL)
       ORDER BY round_id, created_at`,
      [Math.floor(Date.now() / 1000) - SEALED_GRACE_SECONDS, this.roundAt(now)],
    );
    for (const row of due) {
      const { opensAt, closesAt } = this.revealWindow(Number(row.round_id));
      // One bid's trouble (a node down, a refused transaction) must not hold up the others.
      try {
        if (row.state === "sealed") await this.#settleSealed(row, now);
        else if (row.state === "committed" && now >= closesAt) await this.#update(row.bid_ref, { state: "missed" });
        else if (row.state === "committed" && now >= opensAt) await this.#reveal(row);
        else if (row.state === "revealed" && now >= closesAt) await this.#clear(row);
        else if (row.state === "matched") await this.#setImage(row);
      } catch (error) {
        this.#deps.log("sealed bid: will try again", { bidRef: row.bid_ref, error });
      }
    }
  }

  /** A bid stored but never confirmed (a crash between storing and committing): look on-chain. */
  async #settleSealed(row: Row, now: number): Promise<void> {
    const commit = await this.#deps.market.market.commitOf(row.bidder, row.commitment);
    if (commit.deposit > 0n) await this.#update(row.bid_ref, { state: "committed", round_id: Number(commit.roundId) });
    else if (now >= this.revealWindow(Number(row.round_id)).opensAt) {
      await this.#update(row.bid_ref, { state: "failed", error: "the commit never reached the chain" });
    }
  }

  async #reveal(row: Row): Promise<void> {
    const user = await this.#deps.users.byId(row.user_id);
    if (user === undefined) return;
    const { terms, salt } = this.#open(row);
    const hint = await this.#deps.market.market.insertionHint(terms.roundId, terms.pricePerHour);
    try {
      const sent = await this.#deps.send(user, (c) => c.market.revealBid(terms, salt, hint));
      const revealed = sent.events.find((event) => event.name === "BidRevealed");
      await this.#update(row.bid_ref, {
        state: "revealed",
        bid_id: revealed === undefined ? null : Number(revealed.args.bidId),
      });
      this.#deps.log("sealed bid revealed", { bidRef: row.bid_ref, roundId: terms.roundId });
    } catch (error) {
      // Revealed by someone else holding the salt (the user's own wallet), or a transient failure.
      const commit = await this.#deps.market.market.commitOf(row.bidder, row.commitment);
      if (commit.deposit === 0n) await this.#update(row.bid_ref, { state: "revealed" });
      else throw error;
    }
  }

  async #clear(row: Row): Promise<void> {
    const roundId = Number(row.round_id);
    const user = await this.#deps.users.byId(row.user_id);
    if (user === undefined) return;
    while (!(await this.#deps.market.market.isRoundCleared(roundId))) {
      await this.#deps.send(user, (c) => c.market.clearRound(roundId, CLEARING_CHUNK));
    }
    const outcome = await findBid(this.#deps.db, roundId, Number(row.bid_id));
    if (outcome === undefined || outcome.state === "revealed") return;
    const leaseId = outcome.lease_id === null ? null : Number(outcome.lease_id);
    const state = outcome.state === "matched" ? "matched" : "unmatched";
    await this.#update(row.bid_ref, { state, lease_id: leaseId });
    if (state === "matched") await this.#setImage({ ...row, state, lease_id: leaseId });
  }

  /** A lease made by clearing names no image yet: the buyer sets it before the lease starts. */
  async #setImage(row: Row): Promise<void> {
    const user = await this.#deps.users.byId(row.user_id);
    if (user === undefined || row.lease_id === null || row.image === null) return;
    const leaseId = Number(row.lease_id);
    const [image] = await this.#deps.market.leases.detailsOf(leaseId);
    if (image === "") await this.#deps.send(user, (c) => c.leases.setImage(leaseId, row.image ?? ""));
    await this.#update(row.bid_ref, { image: null });
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

  async #update(
    bidRef: string,
    fields: Partial<Pick<Row, "state" | "round_id" | "bid_id" | "lease_id" | "error" | "image">>,
  ) {
    const entries = Object.entries(fields);
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
