import { randomUUID } from "node:crypto";

import {
  MarketRevertError,
  errorMessage,
  newSalt,
  reserveCommitment,
  roundAt,
  sealedStep,
  type ChainNow,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
} from "../../sdk/index.js";
import type { Logger } from "../../sdk/log.js";
import type { Db } from "../db/database.js";
import type { MasterKey } from "../identity/secrets.js";
import type { User, Users } from "../identity/users.js";
import { repeat, type Repeating } from "../repeat.js";
import type { Send } from "../transactions.js";

/**
 * Where a gateway-held sealed reserve is. `sealed`: stored, its enrolment not yet confirmed;
 * `enrolled`: on-chain, waiting for its round's reveal window; then `revealed`, or `missed` (the
 * window closed first: the offer sold with no reserve) or `failed` (the enrolment never made it).
 */
export type SealedReserveState = "sealed" | "enrolled" | "revealed" | "missed" | "failed";

export interface SealedReserveDeps {
  db: Db;
  master: MasterKey;
  users: Users;
  deployment: Deployment;
  market: MarketContracts;
  clock: () => Promise<ChainNow>;
  send: Send;
  logger: Logger;
}

/** How long an enrolment may take before a reserve still `sealed` is looked for on the chain. */
const SEALED_GRACE_SECONDS = 60;

interface Row {
  reserve_ref: string;
  user_id: string;
  commitment: string;
  offer_id: number | null;
  round_id: number | null;
  sealed: string;
  state: SealedReserveState;
}

/** What an enrolment with a sealed reserve sends: the commitment, made from a salt already stored. */
export interface SealedReserve {
  reserveRef: string;
  commitment: string;
}

/**
 * Sealed reserve prices the gateway keeps for its providers, as it keeps custodial bids: the price
 * and salt are sealed with the master key and stored before the enrolment is sent, and a loop
 * reveals each reserve as soon as its round's reveal window opens. A reserve left sealed at clearing
 * counts as none, so the gateway reveals it at the window's start, not at its end.
 */
export class SealedReserves {
  readonly #deps: SealedReserveDeps;
  #loop: Repeating | undefined;

  constructor(deps: SealedReserveDeps) {
    this.#deps = deps;
  }

  /** Seals `reservePerHour` for `user`'s node `nodeId` and stores it; the caller enrols with the commitment. */
  async seal(user: User, nodeId: number, reservePerHour: bigint): Promise<SealedReserve> {
    const { deployment, master, db } = this.#deps;
    const reserveRef = randomUUID();
    const salt = newSalt();
    const domain = { chainId: deployment.chainId, offers: deployment.contracts.offers };
    const commitment = reserveCommitment(domain, user.address, nodeId, reservePerHour, salt);
    const sealed = master.seal("reserve", reserveRef, JSON.stringify({ reservePerHour: String(reservePerHour), salt }));
    const at = Math.floor(Date.now() / 1000);
    await db.run(
      `INSERT INTO sealed_reserves (reserve_ref, user_id, seller, node_id, commitment, sealed, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'sealed', $7, $7)`,
      [reserveRef, user.userId, user.address, nodeId, commitment, sealed, at],
    );
    return { reserveRef, commitment };
  }

  /**
   * Sends an enrolment (`send`) carrying `reserve`, if any, and records how it went: the offer and
   * round it entered, or the error that stopped it (the reserve is then never revealed).
   */
  async enrolling<T extends { events: readonly MarketEvent[] }>(
    reserve: SealedReserve | undefined,
    send: () => Promise<T>,
  ): Promise<T> {
    if (reserve === undefined) return send();
    let sent: T;
    try {
      sent = await send();
    } catch (error) {
      await this.#enrolled(reserve, { error });
      throw error;
    }
    await this.#enrolled(reserve, { events: sent.events });
    return sent;
  }

  async #enrolled(
    reserve: SealedReserve,
    outcome: { events: readonly MarketEvent[] } | { error: unknown },
  ): Promise<void> {
    if ("error" in outcome) {
      await this.#update(reserve.reserveRef, { state: "failed", error: errorMessage(outcome.error) });
      return;
    }
    const enrolment = outcome.events.find((event) => event.name === "OfferEnrolled");
    if (enrolment === undefined || enrolment.name !== "OfferEnrolled") {
      await this.#update(reserve.reserveRef, { state: "failed", error: "the offer entered no round" });
      return;
    }
    await this.#enrolledIn(reserve.reserveRef, enrolment.args);
  }

  /** Starts revealing in the background. */
  start(intervalMs: number): void {
    this.#loop = repeat(
      () => this.advance(),
      intervalMs,
      (error) => this.#deps.logger.warn("sealed reserves: the chain is not answering; will try again", { error }),
    );
  }

  async stop(): Promise<void> {
    await this.#loop?.stop();
  }

  /**
   * One pass: settles reserves whose enrolment outcome was lost (a crash in between), and reveals
   * every enrolled reserve whose round's reveal window is open, all at once.
   */
  async advance(): Promise<void> {
    const now = await this.#deps.clock();
    const { schedule } = this.#deps.deployment;
    const stale = await this.#deps.db.all<Row>(
      "SELECT * FROM sealed_reserves WHERE state = 'sealed' AND created_at <= $1",
      [Math.floor(Date.now() / 1000) - SEALED_GRACE_SECONDS],
    );
    for (const row of stale) await this.#settleSealed(row);
    const rows = await this.#deps.db.all<Row>(
      "SELECT * FROM sealed_reserves WHERE state = 'enrolled' AND round_id < $1 ORDER BY round_id, created_at",
      [roundAt(schedule, now.head)],
    );
    await Promise.all(
      rows.map(async (row) => {
        // An enrolled reserve is a committed seal: revealed in its window while the next block can carry it.
        const step = sealedStep({ state: "committed", roundId: Number(row.round_id) }, schedule, now);
        if (step.action === "miss") await this.#missed(row);
        else if (step.action === "reveal") await this.#reveal(row);
      }),
    );
  }

  /** A reserve stored but never confirmed: enrolled if the chain has its commitment, else failed. */
  async #settleSealed(row: Row): Promise<void> {
    const { offers } = this.#deps.market;
    const enrolments = await offers.queryFilter(offers.filters.OfferEnrolled(), this.#deps.deployment.blockNumber);
    const found = enrolments.find((event) => event.args.sealedReserve === row.commitment);
    if (found === undefined) {
      await this.#update(row.reserve_ref, { state: "failed", error: "the enrolment never reached the chain" });
      return;
    }
    await this.#enrolledIn(row.reserve_ref, found.args);
  }

  /** The reserve is on chain: with the offer and round its `OfferEnrolled` names. */
  async #enrolledIn(reserveRef: string, enrolment: { offerId: bigint; roundId: bigint }): Promise<void> {
    await this.#update(reserveRef, {
      state: "enrolled",
      offer_id: Number(enrolment.offerId),
      round_id: Number(enrolment.roundId),
    });
  }

  async #reveal(row: Row): Promise<void> {
    const user = await this.#deps.users.byId(row.user_id);
    if (user === undefined) return;
    const { reservePerHour, salt } = JSON.parse(this.#deps.master.open("reserve", row.reserve_ref, row.sealed)) as {
      reservePerHour: string;
      salt: string;
    };
    const offerId = Number(row.offer_id);
    try {
      await this.#deps.send(user, (c) => c.offers.revealReserve(offerId, BigInt(reservePerHour), salt), {
        awaitReadModel: false,
      });
      await this.#update(row.reserve_ref, { state: "revealed" });
      this.#deps.logger.info("sealed reserve revealed", { offerId, roundId: Number(row.round_id) });
    } catch (error) {
      // Revealed already (an answer lost on the way): the offer no longer holds a sealed reserve.
      if (error instanceof MarketRevertError && error.revert.name === "InvalidReserveReveal") {
        const offer = await this.#deps.market.offers.offerOf(offerId);
        if (!offer.reserveSealed) {
          await this.#update(row.reserve_ref, { state: "revealed" });
          return;
        }
      }
      this.#deps.logger.warn("sealed reserve: reveal failed; will try again", { offerId, error });
    }
  }

  /** Reported, never silent: the offer sells with no reserve, and its seller sees why. */
  async #missed(row: Row): Promise<void> {
    const why = "its round's reveal window closed before the reserve was revealed: the offer sells with no reserve";
    await this.#update(row.reserve_ref, { state: "missed", error: why });
    this.#deps.logger.error("sealed reserve missed its reveal window", {
      offerId: Number(row.offer_id),
      roundId: Number(row.round_id),
    });
  }

  async #update(
    reserveRef: string,
    fields: { state: SealedReserveState; offer_id?: number; round_id?: number; error?: string },
  ): Promise<void> {
    const entries = Object.entries(fields);
    const sets = entries.map(([column], i) => `${column} = $${i + 2}`);
    await this.#deps.db.run(
      `UPDATE sealed_reserves SET ${sets.join(", ")}, updated_at = $${entries.length + 2} WHERE reserve_ref = $1`,
      [reserveRef, ...entries.map(([, value]) => value), Math.floor(Date.now() / 1000)],
    );
  }
}
