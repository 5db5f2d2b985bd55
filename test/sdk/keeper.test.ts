import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  EndReason,
  Keeper,
  LeaseStatus,
  ManagedSigner,
  MarketRevertError,
  OpenWork,
  PriceModel,
  StandardProfile,
  attach,
  clearingChunk,
  fetchEvents,
  leaseCost,
  parseCredits,
  type BidTerms,
  type MarketEvent,
} from "../../sdk/index.js";
import { commit, currentRound, reveal, toClearing, toRevealWindow } from "../helpers/auction.js";
import { waitFor } from "../helpers/wait.js";
import { HOUR, STARTING_CREDITS, createOffer, offerTerms, only, openWorld, type World } from "../helpers/world.js";

const DEPOSIT = parseCredits("50");

describe("the keeper", () => {
  let w: World;
  let keeper: Keeper;

  beforeEach(async () => {
    w = await openWorld();
    // Signed by an account that belongs to no tenant: every call the keeper makes is anyone's to make.
    keeper = new Keeper({
      provider: w.connection.ethers.provider,
      deployment: w.deployment,
      contracts: attach(w.deployment, new ManagedSigner(w.outsider)),
    });
  });
  afterEach(async () => {
    await keeper.stop();
    await w.connection.close();
  });

  const account = async (who: string) => {
    const [available, escrowed] = await w.c.market.accountOf(who);
    return { available, escrowed };
  };
  const penaltyOf = (deposit: bigint) => (deposit * BigInt(w.deployment.schedule.penaltyBps)) / 10_000n;
  const bidTerms = (roundId: number, overrides: Partial<BidTerms> = {}): BidTerms => ({
    roundId,
    offerId: 0,
    profileId: 0,
    start: w.nextHour + 2 * HOUR,
    duration: HOUR,
    pricePerHour: parseCredits("3"),
    replacesLease: 0,
    ...overrides,
  });

  it("forfeits a bid nobody revealed once its reveal window closes: the penalty to the treasury, the rest back", async () => {
    const round = await currentRound(w);
    const missed = await commit(w, w.buyer, bidTerms(round), DEPOSIT);
    await toRevealWindow(w, round);
    await keeper.pass();
    expect((await w.c.market.commitOf(w.buyer.address, missed.commitment)).deposit).toBe(DEPOSIT);

    await toClearing(w, round);
    await keeper.pass();
    expect((await w.c.market.commitOf(w.buyer.address, missed.commitment)).deposit).toBe(0n);
    const penalty = penaltyOf(DEPOSIT);
    expect(penalty).toBe(DEPOSIT / 10n);
    expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS - penalty, escrowed: 0n });
    expect((await account(w.treasury.address)).available).toBe(penalty);
    expect(keeper.status().counters).toMatchObject({ forfeited: 1, cleared: 0 });
  });

  it("clears a round nobody cleared, and forfeits only the bid its bidder left unrevealed", async () => {
    const offerId = await createOffer(
      { c: w.as(w.seller), send: w.send },
      offerTerms(w.nextHour, { model: PriceModel.Auction, pricePerHour: parseCredits("1") }),
    );
    const round = await currentRound(w);
    // Two commits of one bidder, one revealed: a reveal does not say which commit it opened.
    const won = await commit(w, w.buyer, bidTerms(round, { offerId, pricePerHour: parseCredits("5") }), DEPOSIT);
    const missed = await commit(w, w.buyer, bidTerms(round, { offerId, start: w.nextHour + 5 * HOUR }), DEPOSIT);
    await toRevealWindow(w, round);
    await reveal(w, w.buyer, won);
    await toClearing(w, round);

    await keeper.pass();
    expect(await w.c.market.isRoundCleared(round)).toBe(true);
    const created = await fetchEvents(w.connection.ethers.provider, w.deployment, 0, "latest", {
      contract: "leases",
      events: ["LeaseCreated"],
    });
    const cost = leaseCost(parseCredits("5"), HOUR);
    expect(created.map((e) => e.name === "LeaseCreated" && [e.args.buyer, e.args.cost])).toEqual([
      [w.buyer.address, cost],
    ]);
    expect((await w.c.market.commitOf(w.buyer.address, missed.commitment)).deposit).toBe(0n);
    const penalty = penaltyOf(DEPOSIT);
    expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS - cost - penalty, escrowed: cost });
    expect(keeper.status().counters).toMatchObject({ forfeited: 1, cleared: 1 });
  });

  it("clears in chunks that each fit half a block, however many bids a round holds", async () => {
    const round = await currentRound(w);
    const bids = [];
    for (let i = 0; i < 8; i += 1) {
      const bidder = i % 2 === 0 ? w.buyer : w.rival;
      // Pool bids for a profile no node has: each searches the round's offers and is refunded.
      const terms = bidTerms(round, { profileId: StandardProfile.Large, pricePerHour: parseCredits(String(2 + i)) });
      bids.push([bidder, await commit(w, bidder, terms, DEPOSIT)] as const);
    }
    await toRevealWindow(w, round);
    for (const [bidder, bid] of bids) await reveal(w, bidder, bid);
    await toClearing(w, round);
    // A block that holds the whole round's clearing, but not twice over.
    const blockGasLimit = 2n * (await w.c.market.clearRound.estimateGas(round, 8)) - 100_000n;
    await w.connection.provider.request({
      method: "evm_setBlockGasLimit",
      params: [`0x${blockGasLimit.toString(16)}`],
    });
    await w.connection.networkHelpers.mine();

    await keeper.pass();
    expect(await w.c.market.isRoundCleared(round)).toBe(true);
    const refunds = await fetchEvents(w.connection.ethers.provider, w.deployment, 0, "latest", {
      contract: "market",
      events: ["BidUnmatched"],
    });
    expect(refunds).toHaveLength(8);
    const chunks = [...new Set(refunds.map((e) => e.transactionHash))];
    expect(chunks.length).toBeGreaterThan(1);
    for (const hash of chunks) {
      const receipt = await w.connection.ethers.provider.getTransactionReceipt(hash);
      expect(receipt?.gasUsed).toBeLessThanOrEqual(blockGasLimit / 2n);
    }
    expect(await account(w.rival.address)).toEqual({ available: STARTING_CREDITS, escrowed: 0n });
  });

  describe("leases", () => {
    const PRICE = parseCredits("3.6");
    let start: number;
    let leaseId: number;

    beforeEach(async () => {
      start = w.nextHour;
      const offerId = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(start, { pricePerHour: PRICE }),
      );
      const booked = await w.send(w.as(w.buyer).offers.bookInstant(offerId, start, 2, PRICE, 0, "https://img/os.iso"));
      leaseId = Number(only(booked, "LeaseCreated").args.leaseId);
    });

    it("settles a lease that ran to its end: the seller is paid", async () => {
      await w.connection.networkHelpers.time.setNextBlockTimestamp(start);
      await w.send(w.as(w.agent).leases.reportProvisioned(leaseId, "10.0.0.7"));
      await w.connection.networkHelpers.time.increaseTo(start + 2 * HOUR - 1);
      await keeper.pass();
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));

      await w.connection.networkHelpers.time.increaseTo(start + 2 * HOUR);
      await keeper.pass();
      const lease = await w.c.leases.leaseOf(leaseId);
      expect([lease.status, lease.endReason]).toEqual([BigInt(LeaseStatus.Ended), BigInt(EndReason.Expired)]);
      const cost = leaseCost(PRICE, 2 * HOUR);
      expect(await account(w.seller.address)).toEqual({ available: cost, escrowed: 0n });
      expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS - cost, escrowed: 0n });
      expect(keeper.status().counters).toMatchObject({ settled: 1, refunded: 0 });
    });

    it("refunds the buyer of a lease its agent never provisioned within the grace", async () => {
      const grace = w.deployment.provisionGraceSeconds;
      await w.connection.networkHelpers.time.increaseTo(start + grace - 1);
      await keeper.pass();
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Pending));

      await w.connection.networkHelpers.time.increaseTo(start + grace);
      await keeper.pass();
      const lease = await w.c.leases.leaseOf(leaseId);
      expect([lease.status, lease.endReason]).toEqual([BigInt(LeaseStatus.Ended), BigInt(EndReason.TimedOut)]);
      expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS, escrowed: 0n });
      expect(await account(w.seller.address)).toEqual({ available: 0n, escrowed: 0n });
      expect(keeper.status().counters).toMatchObject({ settled: 0, refunded: 1 });
    });

    it("drops a task someone else did first", async () => {
      // One block behind the head, the keeper has not seen the settlement when it sends its own.
      const behind = new Keeper({
        provider: w.connection.ethers.provider,
        deployment: w.deployment,
        contracts: attach(w.deployment, new ManagedSigner(w.outsider)),
        options: { confirmations: 1 },
      });
      await w.connection.networkHelpers.time.increaseTo(start + w.deployment.provisionGraceSeconds);
      await w.send(w.as(w.rival).leases.settle(leaseId));
      await behind.pass();
      expect(behind.status()).toMatchObject({ open: { leases: 0 }, counters: { refunded: 0, superseded: 1 } });
      expect((await w.c.leases.leaseOf(leaseId)).endReason).toBe(BigInt(EndReason.TimedOut));
    });

    it("follows the chain while it runs, taking in leases made after it started", async () => {
      const running = new Keeper({
        provider: w.connection.ethers.provider,
        deployment: w.deployment,
        contracts: attach(w.deployment, new ManagedSigner(w.outsider)),
        options: { pollIntervalMs: 20 },
      });
      running.start();
      try {
        const head = await w.connection.ethers.provider.getBlockNumber();
        await waitFor("a first pass", () => running.status().scannedBlock >= head);
        const { offerId } = await w.c.leases.leaseOf(leaseId);
        const later = start + 3 * HOUR;
        const booked = await w.send(
          w.as(w.rival).offers.bookInstant(offerId, later, 1, PRICE, 0, "https://img/os.iso"),
        );
        const laterId = Number(only(booked, "LeaseCreated").args.leaseId);
        await w.connection.networkHelpers.time.increaseTo(later + w.deployment.provisionGraceSeconds);

        // The keeper counts a refund once its receipt is in, which can be after the chain shows it.
        await waitFor("the later lease refunded", () => running.status().counters.refunded === 2);
        expect((await w.c.leases.leaseOf(laterId)).status).toBe(BigInt(LeaseStatus.Ended));
        expect(await account(w.rival.address)).toEqual({ available: STARTING_CREDITS, escrowed: 0n });
        expect(running.status()).toMatchObject({ running: true, counters: { refunded: 2 } });
      } finally {
        await running.stop();
      }
      expect(running.status().running).toBe(false);
    });
  });
});

describe("clearing chunks", () => {
  it("halve until a chunk's estimate fits 2,000,000 gas and half the block's gas limit", async () => {
    const asked: number[] = [];
    const estimate = async (maxBids: number) => {
      asked.push(maxBids);
      return 100_000n + BigInt(maxBids) * 300_000n;
    };
    // A 30M block would take 48 such bids in half of it: the transaction cap keeps it to 5.
    const chunk = await clearingChunk(estimate, 30_000_000n, 40);
    expect(asked).toEqual([40, 20, 10, 5]);
    expect(chunk.maxBids).toBe(5);
    expect(chunk.gasLimit).toBeGreaterThan(1_600_000n);
    expect(chunk.gasLimit).toBeLessThanOrEqual(30_000_000n);
    // A smaller block than the cap: half of it is the limit.
    asked.length = 0;
    expect((await clearingChunk(estimate, 1_500_000n, 40)).maxBids).toBe(2);
    expect(asked).toEqual([40, 20, 10, 5, 2]);
  });

  it("halve when a chunk is too big to estimate at all, but stop at the contract's refusal", async () => {
    const tooBig = new Error("gas required exceeds allowance (30000000)");
    const chunk = await clearingChunk(
      async (maxBids) => {
        if (maxBids > 3) throw tooBig;
        return 1_000_000n;
      },
      30_000_000n,
      16,
    );
    expect(chunk.maxBids).toBe(2);
    const refused = new MarketRevertError({ name: "RoundAlreadyCleared", signature: "", args: {} });
    await expect(clearingChunk(() => Promise.reject(refused), 30_000_000n, 16)).rejects.toBe(refused);
  });

  it("send one bid however much it costs: it cannot be split", async () => {
    const chunk = await clearingChunk(async () => 26_000_000n, 30_000_000n, 4);
    expect(chunk).toEqual({ maxBids: 1, gasLimit: 30_000_000n });
  });
});

describe("the keeper's open work", () => {
  const rules = { schedule: { genesis: 0, commitSeconds: 600, revealSeconds: 300 }, provisionGraceSeconds: 900 };
  /** Round 1 reveals during [600, 900). */
  const CLOSED = 900;
  const BIDDER = "0x00000000000000000000000000000000000000b1";
  const event = (name: string, args: Record<string, unknown>) =>
    ({
      contract: name.startsWith("Lease") ? "leases" : "market",
      name,
      args,
      address: "0x",
      blockNumber: 1,
      blockHash: "0x",
      transactionHash: "0x",
      logIndex: 0,
    }) as unknown as MarketEvent;
  const committed = (commitment: string) => event("BidCommitted", { roundId: 1n, bidder: BIDDER, commitment });
  const revealed = () => event("BidRevealed", { roundId: 1n, bidId: 1n, bidder: BIDDER });

  it("forfeits nothing of a bidder who revealed every commit, and clears the round", () => {
    const work = new OpenWork(rules);
    work.apply(committed("0xa"));
    work.apply(revealed());
    expect(work.due(CLOSED - 1)).toEqual([]);
    expect(work.due(CLOSED)).toEqual([{ kind: "clear", roundId: 1, bids: 1 }]);
    work.apply(event("RoundCleared", { roundId: 1n }));
    expect(work.due(CLOSED)).toEqual([]);
  });

  it("tries every commit of a bidder who revealed fewer, until the unrevealed one is forfeited", () => {
    const work = new OpenWork(rules);
    work.apply(committed("0xa"));
    work.apply(committed("0xb"));
    work.apply(revealed());
    const forfeits = () => work.due(CLOSED).filter((task) => task.kind === "forfeit");
    expect(forfeits().map((task) => task.kind === "forfeit" && task.commitment)).toEqual(["0xa", "0xb"]);
    // 0xa was the revealed one: the chain says it is gone. 0xb may still be unrevealed.
    work.drop({ kind: "forfeit", roundId: 1, bidder: BIDDER, commitment: "0xa" }, "superseded");
    expect(forfeits().map((task) => task.kind === "forfeit" && task.commitment)).toEqual(["0xb"]);
    work.drop({ kind: "forfeit", roundId: 1, bidder: BIDDER, commitment: "0xb" }, "done");
    expect(forfeits()).toEqual([]);
    expect(work.size().commits).toBe(0);
  });

  it("settles a pending lease at the end of its grace, a running one at its end, an ended one never", () => {
    const work = new OpenWork(rules);
    work.apply(event("LeaseCreated", { leaseId: 1n, start: 1000n, end: 5000n }));
    work.apply(event("LeaseCreated", { leaseId: 2n, start: 1000n, end: 5000n }));
    work.apply(event("LeaseCreated", { leaseId: 3n, start: 1000n, end: 1500n }));
    work.apply(event("LeaseProvisioned", { leaseId: 2n }));
    const due = (now: number) => work.due(now).map((task) => task.kind === "settle" && task.leaseId);
    expect(due(1499)).toEqual([]);
    expect(due(1500)).toEqual([3]);
    expect(due(1900)).toEqual([1, 3]);
    expect(due(5000)).toEqual([1, 2, 3]);
    work.apply(event("LeaseEnded", { leaseId: 1n }));
    expect(due(5000)).toEqual([2, 3]);
  });

  it("releases a lease at the start of its replacement provisioned ahead, unless the replacement ended first", () => {
    const work = new OpenWork(rules);
    work.apply(event("LeaseCreated", { leaseId: 1n, start: 1000n, end: 9000n, replacesLease: 0n }));
    work.apply(event("LeaseProvisioned", { leaseId: 1n }));
    work.apply(event("LeaseCreated", { leaseId: 2n, start: 4000n, end: 8000n, replacesLease: 1n }));
    work.apply(event("LeaseCreated", { leaseId: 3n, start: 5000n, end: 8000n, replacesLease: 1n }));
    const due = (now: number) => work.due(now).map((task) => task.kind === "settle" && task.leaseId);
    work.apply(event("LeaseProvisioned", { leaseId: 2n }));
    expect(due(3999)).toEqual([]);
    expect(due(4000)).toEqual([1]);
    // Its owner backs out before the start: the buyer's lease runs on to its own end.
    work.apply(event("LeaseEnded", { leaseId: 2n }));
    expect(due(4000)).toEqual([]);
    work.apply(event("LeaseProvisioned", { leaseId: 3n }));
    expect(due(5000)).toEqual([1]);
  });

  it("counts a pending lease's grace from when it was made, when that was after its start", () => {
    const work = new OpenWork(rules);
    work.apply({
      ...event("LeaseCreated", { leaseId: 1n, start: 1000n, end: 9000n, replacesLease: 0n }),
      blockTimestamp: 1600,
    } as MarketEvent);
    const due = (now: number) => work.due(now).map((task) => task.kind === "settle" && task.leaseId);
    expect(due(1000 + 900)).toEqual([]);
    expect(due(1600 + 900)).toEqual([1]);
  });

  it("settles a preempted lease once its notice has run", () => {
    const work = new OpenWork(rules);
    work.apply(event("LeaseCreated", { leaseId: 1n, start: 1000n, end: 9000n, replacesLease: 0n }));
    work.apply(event("LeaseProvisioned", { leaseId: 1n }));
    work.apply(event("LeasePreempted", { leaseId: 1n, endsAt: 2120n }));
    const due = (now: number) => work.due(now).map((task) => task.kind === "settle" && task.leaseId);
    expect(due(2119)).toEqual([]);
    expect(due(2120)).toEqual([1]);
  });
});
