import { beforeEach, describe, expect, it } from "vitest";

import {
  bidCommitment,
  leaseCost,
  leaseImage,
  newSalt,
  parseCredits,
  planRevealBurst,
  reserveCommitment,
  sealBid,
  type BidTerms,
  PriceModel,
  NodeStatus,
  StandardProfile,
  MemberRole,
} from "../../sdk/index.js";
import { clearAll, commit, currentRound, reveal, toClearing, toRevealWindow } from "../helpers/auction.js";
import { expectRevert } from "../helpers/revert.js";
import {
  HOUR,
  STARTING_CREDITS,
  createOffer,
  names,
  offerTerms,
  only,
  openWorld,
  type World,
  fieldsOf,
} from "../helpers/world.js";

const DEPOSIT = parseCredits("50");

describe("Sealed-bid auction", () => {
  let w: World;
  let round: number;
  let auctionOffer: number;
  let start: number;

  beforeEach(async () => {
    w = await openWorld();
    start = w.nextHour + 2 * HOUR;
    auctionOffer = await createOffer(
      { c: w.as(w.seller), send: w.send },
      offerTerms(w.nextHour, { model: PriceModel.Auction, pricePerHour: parseCredits("1") }),
    );
    round = await currentRound(w);
  });

  const terms = (overrides: Partial<BidTerms> = {}): BidTerms => ({
    roundId: round,
    offerId: auctionOffer,
    profileId: 0,
    start,
    duration: HOUR,
    pricePerHour: parseCredits("3"),
    replacesLease: 0,
    ...overrides,
  });
  /** The seller's sealed reserve of `reservePerHour` for the small node. */
  const sealReserve = (reservePerHour: bigint, salt: string) =>
    reserveCommitment(
      { chainId: w.deployment.chainId, offers: w.deployment.contracts.offers },
      w.seller.address,
      w.nodes.small,
      reservePerHour,
      salt,
    );
  const available = async (account: string) => (await w.c.market.accountOf(account))[0];
  const escrowed = async (account: string) => (await w.c.market.accountOf(account))[1];

  describe("commit", () => {
    it("escrows the deposit and records only the commitment", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      expect(await available(w.buyer.address)).toBe(STARTING_CREDITS - DEPOSIT);
      expect(await escrowed(w.buyer.address)).toBe(DEPOSIT);
      const stored = await w.c.market.commitOf(w.buyer.address, bid.commitment);
      const block = await w.connection.ethers.provider.getBlock("latest");
      expect([stored.deposit, stored.roundId, stored.committedAt]).toEqual([
        DEPOSIT,
        BigInt(round),
        BigInt(block?.timestamp ?? 0),
      ]);
    });

    it("keeps the price out of the transaction, its events and its storage", async () => {
      const secretPrice = 0x5ec2e7n;
      const bid = await commit(w, w.buyer, terms({ pricePerHour: secretPrice }), DEPOSIT);
      const committed = await w.c.market.queryFilter(w.c.market.filters.BidCommitted(), "latest");
      const tx = await committed[0]?.getTransaction();
      const priceWord = secretPrice.toString(16).padStart(64, "0");
      expect(tx?.data.includes(priceWord)).toBe(false);
      expect(tx?.data.includes(bid.salt.slice(2))).toBe(false);
      expect(committed[0]?.data.includes(priceWord)).toBe(false);
      const trace = (await w.connection.provider.request({
        method: "debug_traceTransaction",
        params: [tx?.hash],
      })) as { structLogs: { op: string; stack: string[] }[] };
      const stored = trace.structLogs
        .filter((step) => step.op === "SSTORE")
        .map((step) => BigInt(step.stack.at(-2) ?? 0));
      expect(stored.length).toBeGreaterThan(0);
      expect(stored).not.toContain(secretPrice);
    });

    it("refuses outsiders, zero deposits, repeats and deposits beyond the available credits", async () => {
      const sealed = bidCommitment(
        { chainId: w.deployment.chainId, market: w.deployment.contracts.market },
        w.buyer.address,
        terms(),
        newSalt(),
      );
      await expectRevert(w.as(w.outsider).market.commitBid(sealed, DEPOSIT, round), "NotActiveMember");
      await expectRevert(w.as(w.buyer).market.commitBid(sealed, 0n, round), "ZeroAmount");
      await expectRevert(w.as(w.buyer).market.commitBid(sealed, STARTING_CREDITS + 1n, round), "InsufficientCredits");
      await w.send(w.as(w.buyer).market.commitBid(sealed, DEPOSIT, round));
      await expectRevert(w.as(w.buyer).market.commitBid(sealed, DEPOSIT, round), "CommitmentExists");
    });

    it("is taken only for the round whose commit phase is open, escrowing nothing otherwise", async () => {
      const late = sealBid(
        { chainId: w.deployment.chainId, market: w.deployment.contracts.market },
        w.buyer.address,
        terms(),
        DEPOSIT,
      );
      await toRevealWindow(w, round);
      await expectRevert(w.as(w.buyer).market.commitBid(late.commitment, DEPOSIT, round), "NotCommitPhase", {
        roundId: BigInt(round),
        current: BigInt(round + 1),
      });
      await expectRevert(w.as(w.buyer).market.commitBid(late.commitment, DEPOSIT, round + 2), "NotCommitPhase");
      expect(await escrowed(w.buyer.address)).toBe(0n);
    });

    it("computes the same commitment as the SDK, bound to bidder, chain and contract", async () => {
      const t = terms();
      const salt = newSalt();
      const domain = { chainId: w.deployment.chainId, market: w.deployment.contracts.market };
      const expected = bidCommitment(domain, w.buyer.address, t, salt);
      expect(await w.c.market.bidCommitment(w.buyer.address, t, salt)).toBe(expected);
      expect(bidCommitment(domain, w.rival.address, t, salt)).not.toBe(expected);
      expect(bidCommitment({ ...domain, chainId: 1 }, w.buyer.address, t, salt)).not.toBe(expected);
      expect(bidCommitment({ ...domain, market: w.deployment.contracts.offers }, w.buyer.address, t, salt)).not.toBe(
        expected,
      );
    });
  });

  describe("reveal", () => {
    it("is taken only inside the round's reveal window", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await expectRevert(w.as(w.buyer).market.revealBid(bid.terms, bid.salt, 0, ""), "OutsideRevealWindow");
      await toClearing(w, round);
      await expectRevert(w.as(w.buyer).market.revealBid(bid.terms, bid.salt, 0, ""), "OutsideRevealWindow");
    });

    it("opens a bid into the round's price order", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      const { committedAt } = await w.c.market.commitOf(w.buyer.address, bid.commitment);
      const [commitOpens] = await w.c.market.commitWindow(round);
      await toRevealWindow(w, round);
      const revealed = only(await reveal(w, w.buyer, bid), "BidRevealed");
      expect(revealed.args).toEqual({
        roundId: BigInt(round),
        bidId: 1n,
        bidder: w.buyer.address,
        offerId: BigInt(auctionOffer),
        profileId: 0n,
        start: BigInt(start),
        duration: BigInt(HOUR),
        pricePerHour: parseCredits("3"),
        replacesLease: 0n,
        image: "",
      });
      const stored = await w.c.market.bidOf(round, 1);
      expect(fieldsOf(stored)).toEqual({
        bidder: w.buyer.address,
        deposit: DEPOSIT,
        pricePerHour: parseCredits("3"),
        start: BigInt(start),
        duration: BigInt(HOUR),
        offerId: BigInt(auctionOffer),
        profileId: 0n,
        replacesLease: 0n,
        next: 0n,
        sealedAt: (committedAt - commitOpens) / (await w.c.market.sealTick()),
      });
      expect((await w.c.market.commitOf(w.buyer.address, bid.commitment)).deposit).toBe(0n);
    });

    it("breaks a tie by the earlier commit, however late it is revealed", async () => {
      const [early, late] = [w.buyer, w.rival];
      const earlyBid = await commit(w, early, terms(), DEPOSIT);
      await w.connection.networkHelpers.time.increase(60);
      const lateBid = await commit(w, late, terms(), DEPOSIT);
      await toRevealWindow(w, round);
      // The later committer sees the earlier one's commit and reveals first, with a hint to match.
      await reveal(w, late, lateBid);
      await reveal(w, early, earlyBid);
      expect((await w.c.market.bidsByPrice(round, 0, 10)).map(Number)).toEqual([2, 1]);
      await toClearing(w, round);
      const cleared = await clearAll(w, round);
      expect(only(cleared, "BidMatched").args.bidId).toBe(2n);
      expect(only(cleared, "BidUnmatched").args.bidId).toBe(1n);
    });

    it("keeps bids ordered by price, earlier commit first on ties, whatever the hints", async () => {
      const prices = ["3", "7", "5", "7", "1"].map(parseCredits);
      const bids = [];
      for (const [i, pricePerHour] of prices.entries()) {
        bids.push(
          await commit(w, i % 2 === 0 ? w.buyer : w.rival, terms({ pricePerHour, start: start + i * HOUR }), DEPOSIT),
        );
      }
      await toRevealWindow(w, round);
      for (const [i, bid] of bids.entries()) {
        const bidder = i % 2 === 0 ? w.buyer : w.rival;
        // A wrong hint (the cheapest bid) must not misplace the bid.
        await w.send(w.as(bidder).market.revealBid(bid.terms, bid.salt, i === 3 ? 1 : 0, ""));
      }
      const order = await w.c.market.bidsByPrice(round, 0, 10);
      expect(order.map(Number)).toEqual([2, 4, 3, 1, 5]);
      expect((await w.c.market.bidsByPrice(round, 4, 2)).map(Number)).toEqual([3, 1]);
    });

    it("takes a burst of reveals planned by the SDK in one block, none walking the price order", async () => {
      // Many bids at few prices, one already revealed: the burst's hints are read before it lands.
      const prices = [2, 5, 2, 5, 5, 3, 2, 5, 3, 5, 5, 2].map((p) => parseCredits(String(p)));
      const bids = [];
      for (const [i, pricePerHour] of prices.entries()) {
        bids.push(await commit(w, w.buyer, terms({ pricePerHour, start: start + i * HOUR }), DEPOSIT));
      }
      const first = await commit(w, w.rival, terms({ pricePerHour: parseCredits("4") }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.rival, first);
      const before = await Promise.all(
        bids.map(async (bid) => ({
          bid,
          pricePerHour: bid.terms.pricePerHour,
          committedAt: Number((await w.c.market.commitOf(w.buyer.address, bid.commitment)).committedAt),
          hint: Number(await w.c.market.insertionHint(round, bid.terms.pricePerHour, w.buyer.address, bid.commitment)),
        })),
      );
      const burst = planRevealBurst(1, before);
      const provider = w.connection.provider;
      await provider.request({ method: "evm_setAutomine", params: [false] });
      const sent = [];
      for (const { bid, hint } of burst) {
        sent.push(await w.as(w.buyer).market.revealBid(bid.terms, bid.salt, hint, "", { gasLimit: 300_000 }));
      }
      await provider.request({ method: "evm_mine", params: [] });
      await provider.request({ method: "evm_setAutomine", params: [true] });
      const receipts = await Promise.all(sent.map((tx) => tx.wait()));
      expect(new Set(receipts.map((r) => r?.blockNumber)).size).toBe(1);
      // Without a walk, every reveal costs the same give or take which slot it links from (~5,000
      // gas); the sixth bid at 5 credits would walk past five others (~11,000 more).
      const gas = receipts.map((r) => Number(r?.gasUsed));
      expect(Math.max(...gas) - Math.min(...gas)).toBeLessThan(8_000);
      // The order is what revealing one at a time would give: by price, earlier commit first on ties.
      const order = (await w.c.market.bidsByPrice(round, 0, 20)).map(Number);
      const expected = [
        { id: 1, price: parseCredits("4") },
        ...burst.map((b, i) => ({ id: i + 2, price: b.pricePerHour })),
      ].sort((a, b) => (a.price === b.price ? a.id - b.id : a.price > b.price ? -1 : 1));
      expect(order).toEqual(expected.map((b) => b.id));
    });

    it("refuses a wrong salt, another round, a copied commitment and a bid above its deposit", async () => {
      const domain = { chainId: w.deployment.chainId, market: w.deployment.contracts.market };
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      const copied = await w.send(w.as(w.rival).market.commitBid(bid.commitment, DEPOSIT, round));
      expect(names(copied)).toContain("BidCommitted");
      // Terms sealed for the next round but committed in this one (by hand: the commit names its round).
      const early = sealBid(domain, w.buyer.address, terms({ roundId: round + 1 }), DEPOSIT);
      await w.send(w.as(w.buyer).market.commitBid(early.commitment, DEPOSIT, round));
      // The SDK refuses to seal a bid its deposit cannot cover; commit one by hand.
      const underfunded = terms({ pricePerHour: parseCredits("2") });
      const salt = newSalt();
      await w.send(
        w.as(w.buyer).market.commitBid(bidCommitment(domain, w.buyer.address, underfunded, salt), 1n, round),
      );

      await toRevealWindow(w, round);
      await expectRevert(w.as(w.buyer).market.revealBid(bid.terms, newSalt(), 0, ""), "UnknownCommitment");
      await expectRevert(w.as(w.rival).market.revealBid(bid.terms, bid.salt, 0, ""), "UnknownCommitment");
      await expectRevert(w.as(w.buyer).market.revealBid(early.terms, early.salt, 0, ""), "RoundMismatch", {
        committedIn: BigInt(round),
        revealedFor: BigInt(round + 1),
      });
      await expectRevert(w.as(w.buyer).market.revealBid(underfunded, salt, 0, ""), "BidExceedsDeposit", {
        maxCost: parseCredits("2"),
        deposit: 1n,
      });
      await w.send(w.as(w.buyer).market.revealBid(bid.terms, bid.salt, 0, ""));
    });

    it("refuses bids without a price, a start or a duration", async () => {
      const free = await commit(w, w.buyer, { ...terms(), pricePerHour: 1n }, DEPOSIT);
      const zeroPrice = { ...free.terms, pricePerHour: 0n };
      const domain = { chainId: w.deployment.chainId, market: w.deployment.contracts.market };
      await w.send(
        w
          .as(w.buyer)
          .market.commitBid(await w.c.market.bidCommitment(w.buyer.address, zeroPrice, free.salt), DEPOSIT, round),
      );
      await toRevealWindow(w, round);
      await expectRevert(w.as(w.buyer).market.revealBid(zeroPrice, free.salt, 0, ""), "InvalidBidTerms");
      expect(bidCommitment(domain, w.buyer.address, free.terms, free.salt)).toBe(free.commitment);
    });
  });

  describe("clearing", () => {
    it("waits for the reveal window to close and runs once", async () => {
      await expectRevert(w.c.market.clearRound(round, 10), "RevealWindowOpen");
      await toClearing(w, round);
      const events = await w.send(w.as(w.outsider).market.clearRound(round, 10));
      expect(only(events, "RoundCleared").args).toMatchObject({ bids: 0n, matched: 0n });
      await expectRevert(w.c.market.clearRound(round, 10), "RoundAlreadyCleared");
    });

    it("gives the slot to the highest bid, which pays its own price, and refunds the rest", async () => {
      const low = await commit(w, w.buyer, terms({ pricePerHour: parseCredits("3") }), DEPOSIT);
      const high = await commit(w, w.rival, terms({ pricePerHour: parseCredits("5") }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, low, "https://images.example/low.iso");
      await reveal(w, w.rival, high, "https://images.example/high.iso");
      await toClearing(w, round);
      const events = await clearAll(w, round);
      const matched = only(events, "BidMatched");
      const cost = leaseCost(parseCredits("5"), HOUR);
      expect(matched.args).toMatchObject({ bidId: 2n, cost, refund: DEPOSIT - cost });
      expect(only(events, "BidUnmatched").args).toMatchObject({ bidId: 1n, refund: DEPOSIT });
      expect(only(events, "LeaseCreated").args).toMatchObject({ buyer: w.rival.address, cost });
      // The lease is complete when clearing creates it: it boots the image its bid named.
      const image = await leaseImage(w.c, Number(matched.args.leaseId), w.deployment.blockNumber);
      expect(image).toBe("https://images.example/high.iso");
      expect([await available(w.buyer.address), await escrowed(w.buyer.address)]).toEqual([STARTING_CREDITS, 0n]);
      expect([await available(w.rival.address), await escrowed(w.rival.address)]).toEqual([
        STARTING_CREDITS - cost,
        cost,
      ]);
    });

    it("matches every bid that fits, each paying as it bid (pay-as-bid)", async () => {
      const a = await commit(w, w.buyer, terms({ pricePerHour: parseCredits("3") }), DEPOSIT);
      const b = await commit(
        w,
        w.rival,
        terms({ pricePerHour: parseCredits("5"), start: start + HOUR, duration: 2 * HOUR }),
        DEPOSIT,
      );
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, a);
      await reveal(w, w.rival, b);
      await toClearing(w, round);
      const costs = (await clearAll(w, round)).filter((e) => e.name === "BidMatched").map((e) => e.args.cost);
      expect(costs).toEqual([leaseCost(parseCredits("5"), 2 * HOUR), leaseCost(parseCredits("3"), HOUR)]);
    });

    it("never sells below the public reserve", async () => {
      const cheap = await commit(w, w.buyer, terms({ pricePerHour: parseCredits("0.5") }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, cheap);
      await toClearing(w, round);
      expect(names(await clearAll(w, round))).toEqual(["BidUnmatched", "RoundCleared"]);
    });

    it("honours a sealed reserve once revealed, and sells nothing while it stays sealed", async () => {
      const salt = newSalt();
      const sealedReserve = sealReserve(parseCredits("4"), salt);
      const sealedOffer = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(w.nextHour, { nodeId: w.nodes.small, model: PriceModel.Auction, pricePerHour: 0n, sealedReserve }),
      );
      expect(await w.c.offers.postedPrice(sealedOffer)).toBe(0n);
      const below = await commit(w, w.buyer, terms({ offerId: sealedOffer, pricePerHour: parseCredits("3") }), DEPOSIT);
      const above = await commit(
        w,
        w.rival,
        terms({ offerId: sealedOffer, pricePerHour: parseCredits("4"), start: start + HOUR }),
        DEPOSIT,
      );
      await expectRevert(
        w.as(w.seller).offers.revealReserve(sealedOffer, parseCredits("4"), salt),
        "OutsideRevealWindow",
      );
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, below);
      await reveal(w, w.rival, above);
      await expectRevert(
        w.as(w.seller).offers.revealReserve(sealedOffer, parseCredits("3"), salt),
        "InvalidReserveReveal",
      );
      await expectRevert(w.as(w.buyer).offers.revealReserve(sealedOffer, parseCredits("4"), salt), "NotOfferManager");
      const opened = only(
        await w.send(w.as(w.seller).offers.revealReserve(sealedOffer, parseCredits("4"), salt)),
        "ReserveRevealed",
      );
      expect(opened.args.reservePerHour).toBe(parseCredits("4"));
      await toClearing(w, round);
      const events = await clearAll(w, round);
      expect(only(events, "BidMatched").args.bidId).toBe(2n);
      expect(only(events, "BidUnmatched").args.bidId).toBe(1n);
    });

    it("sells an offer whose sealed reserve was never revealed as if it had none", async () => {
      const sealedReserve = sealReserve(1n, newSalt());
      const sealedOffer = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(w.nextHour, { nodeId: w.nodes.small, model: PriceModel.Auction, pricePerHour: 0n, sealedReserve }),
      );
      const bid = await commit(w, w.buyer, terms({ offerId: sealedOffer }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      await toClearing(w, round);
      expect(names(await clearAll(w, round))).toEqual(["LeaseCreated", "BidMatched", "RoundCleared"]);
    });

    it("keeps a node offered in a round, and its seller, in the market until the round clears", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      const { nodeId } = await w.c.offers.offerOf(auctionOffer);
      await expectRevert(w.as(w.seller).nodes.setStatus(nodeId, NodeStatus.Maintenance), "NodeHeld");
      await expectRevert(w.as(w.seller).market.leaveTenant(), "SellerInRound");
      await expectRevert(w.c.market.setMemberRoles(w.seller.address, MemberRole.TenantAdmin), "SellerInRound");
      await toClearing(w, round);
      expect(names(await clearAll(w, round))).toEqual(["LeaseCreated", "BidMatched", "RoundCleared"]);
      await w.send(w.as(w.seller).nodes.setStatus(nodeId, NodeStatus.Maintenance));
    });

    it("adds no third round to a node's hold while both it holds are uncleared, so none is forgotten", async () => {
      const seller = { c: w.as(w.seller), send: w.send };
      const later = (day: number) =>
        offerTerms(w.nextHour + day * 24 * HOUR, { nodeId: w.nodes.big, model: PriceModel.Auction });
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      await createOffer(seller, later(1)); // enrols in round + 1, while round reveals
      await toRevealWindow(w, round + 1);
      // Round still holds a revealed bid; round + 1 reveals: the node's hold cannot take round + 2.
      await expectRevert(w.as(w.seller).offers.createOffer(later(2)), "RoundNotCleared", { roundId: BigInt(round) });
      await clearAll(w, round);
      await createOffer(seller, later(2));
      expect(await w.c.offers.roundHoldingNode(w.nodes.big)).toBe(BigInt(round + 1));
    });

    it("keeps the earlier round in a node's hold when the later one is cleared first (found by the invariants)", async () => {
      const seller = { c: w.as(w.seller), send: w.send };
      const later = (day: number) =>
        offerTerms(w.nextHour + day * 24 * HOUR, { nodeId: w.nodes.big, model: PriceModel.Auction });
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      await createOffer(seller, later(1)); // enrols in round + 1, while round reveals
      await toClearing(w, round + 1);
      await clearAll(w, round + 1); // anyone may clear the later round first; round's bid is still open
      await createOffer(seller, later(2)); // round + 2: the hold keeps round, not the cleared round + 1
      expect(await w.c.offers.roundHoldingNode(w.nodes.big)).toBe(BigInt(round));
      await expectRevert(w.as(w.seller).nodes.setStatus(w.nodes.big, NodeStatus.Maintenance), "NodeHeld", {
        roundId: BigInt(round),
      });
    });

    it("keeps a member of a suspended tenant in it, so its committed bids stay refunded, not cleared", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await w.send(w.c.market.suspendTenant(w.tenants.buyers));
      await expectRevert(w.as(w.buyer).market.leaveTenant(), "InvalidTenantStatus");
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      await toClearing(w, round);
      expect(only(await clearAll(w, round), "BidUnmatched").args.refund).toBe(DEPOSIT);
    });

    it("refuses a sealed reserve enrolled a second time", async () => {
      const sealedReserve = sealReserve(1n, newSalt());
      const listed = offerTerms(w.nextHour, {
        nodeId: w.nodes.small,
        model: PriceModel.Auction,
        pricePerHour: 0n,
        sealedReserve,
      });
      await createOffer({ c: w.as(w.seller), send: w.send }, listed);
      await expectRevert(w.as(w.seller).offers.createOffer(listed), "ReserveReused");
    });

    it("finds a pool bid's node through its profile's pool, however many other offers were enrolled first", async () => {
      const seller = { c: w.as(w.seller), send: w.send };
      const later = w.nextHour + 24 * HOUR;
      // More small-node offers than a pool bid tries, then the big node's offer for the next day.
      const tries = Number(await w.c.offers.MAX_POOL_TRIES());
      for (let i = 0; i <= tries; i += 1) {
        await createOffer(
          seller,
          offerTerms(w.nextHour + i * HOUR, { nodeId: w.nodes.small, model: PriceModel.Auction }),
        );
      }
      const bigLater = await createOffer(
        seller,
        offerTerms(later, { nodeId: w.nodes.big, model: PriceModel.Auction, pricePerHour: parseCredits("1") }),
      );
      expect((await w.c.offers.offersInRound(round)).length).toBeGreaterThan(tries + 2);
      const large = await commit(
        w,
        w.buyer,
        terms({ offerId: 0, profileId: StandardProfile.Large, start: later + 6 * HOUR }),
        DEPOSIT,
      );
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, large);
      await toClearing(w, round);
      const created = only(await clearAll(w, round), "LeaseCreated");
      expect(created.args.offerId).toBe(BigInt(bigLater));
    });

    it("spreads pool bids over the offers whose node fits their profile, from where each bid's id points", async () => {
      const smallOffer = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(w.nextHour, { nodeId: w.nodes.small, model: PriceModel.Auction, pricePerHour: parseCredits("1") }),
      );
      const first = await commit(
        w,
        w.buyer,
        terms({ offerId: 0, profileId: StandardProfile.Small, pricePerHour: parseCredits("9") }),
        DEPOSIT,
      );
      const second = await commit(
        w,
        w.rival,
        terms({ offerId: 0, profileId: StandardProfile.Small, pricePerHour: parseCredits("8") }),
        DEPOSIT,
      );
      const large = await commit(
        w,
        w.rival,
        terms({ offerId: 0, profileId: StandardProfile.Large, pricePerHour: parseCredits("7") }),
        DEPOSIT,
      );
      await toRevealWindow(w, round);
      for (const [bidder, bid] of [
        [w.buyer, first],
        [w.rival, second],
        [w.rival, large],
      ] as const)
        await reveal(w, bidder, bid);
      await toClearing(w, round);
      const events = await clearAll(w, round);
      const booked = events.filter((e) => e.name === "LeaseCreated").map((e) => [e.args.offerId, e.args.cost]);
      // Both nodes fit Small: bid 1 starts at the pool's second offer (the small node), bid 2 at its
      // first (the big one); the Large pool holds only the big node, taken by then.
      expect(booked).toEqual([
        [BigInt(smallOffer), parseCredits("9")],
        [BigInt(auctionOffer), parseCredits("8")],
      ]);
      expect(only(events, "BidUnmatched").args.bidId).toBe(3n);
    });

    it("refunds bids of members who may no longer start leases, and bids for time already past", async () => {
      const suspended = await commit(w, w.buyer, terms(), DEPOSIT);
      const late = await commit(w, w.rival, terms({ start: w.nextHour, pricePerHour: parseCredits("2") }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, suspended);
      await reveal(w, w.rival, late);
      await w.send(w.c.market.suspendTenant(w.tenants.buyers));
      await w.connection.networkHelpers.time.increaseTo(w.nextHour + HOUR);
      const events = await clearAll(w, round);
      expect(names(events)).toEqual(["BidUnmatched", "BidUnmatched", "RoundCleared"]);
      expect(await available(w.buyer.address)).toBe(STARTING_CREDITS);
    });

    it("holds a revealed bid whose bidder dropped its buyer role or left its tenant: it wins and pays", async () => {
      // A bidder who is its tenant's admin used to void a revealed bid for free this way.
      await w.send(w.c.market.setMemberRoles(w.rival.address, MemberRole.Buyer | MemberRole.TenantAdmin));
      const dropped = await commit(w, w.rival, terms({ pricePerHour: parseCredits("4") }), DEPOSIT);
      const left = await commit(w, w.buyer, terms({ start: start + 2 * HOUR }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.rival, dropped);
      await reveal(w, w.buyer, left);
      await w.send(w.as(w.rival).market.setMemberRoles(w.rival.address, MemberRole.TenantAdmin));
      await w.send(w.as(w.buyer).market.leaveTenant());
      await toClearing(w, round);
      const events = await clearAll(w, round);
      expect(names(events)).toEqual(["LeaseCreated", "BidMatched", "LeaseCreated", "BidMatched", "RoundCleared"]);
      expect(await escrowed(w.rival.address)).toBe(leaseCost(parseCredits("4"), HOUR));
    });

    it("fixes eligibility at commit: a bid whose bidder dropped its buyer role is revealed; none replacing another's lease", async () => {
      const droppedRole = await commit(w, w.rival, terms(), DEPOSIT);
      const booked = only(
        await w.send(
          w
            .as(w.buyer)
            .offers.bookInstant(
              await createOffer({ c: w.as(w.seller), send: w.send }, offerTerms(w.nextHour, { nodeId: w.nodes.big })),
              w.nextHour + 20 * HOUR,
              1,
              parseCredits("10"),
              0,
              "",
            ),
        ),
        "LeaseCreated",
      ).args.leaseId;
      const notMine = await commit(w, w.rival, terms({ replacesLease: Number(booked), start: start + HOUR }), DEPOSIT);
      await toRevealWindow(w, round);
      await expectRevert(w.as(w.rival).market.revealBid(notMine.terms, notMine.salt, 0, ""), "NotReplaceable");
      await w.send(w.c.market.setMemberRoles(w.rival.address, MemberRole.Provider));
      // Dropping the role after committing voids nothing: the bid is revealed and clears as any other.
      expect(names(await reveal(w, w.rival, droppedRole))).toContain("BidRevealed");
      await toClearing(w, round);
      expect(only(await clearAll(w, round), "BidMatched").args.bidId).toBe(1n);
      // Without the role, no new bid can be committed.
      await expectRevert(
        w.as(w.rival).market.commitBid(droppedRole.commitment, DEPOSIT, await currentRound(w)),
        "NotActiveMember",
      );
    });

    it("refuses at the reveal a bid shorter than the shortest slice, which nothing could match", async () => {
      const blip = await commit(w, w.buyer, terms({ duration: 4, pricePerHour: parseCredits("1000") }), DEPOSIT);
      await toRevealWindow(w, round);
      await expectRevert(w.as(w.buyer).market.revealBid(blip.terms, blip.salt, 0, ""), "InvalidBidTerms");
    });

    it("matches a bid whose replaced lease its bidder released after the reveal, as a plain bid", async () => {
      const fixed = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(w.nextHour, { nodeId: w.nodes.big, end: w.nextHour + 48 * HOUR }),
      );
      // A throw-away far-future booking, named as the lease the bid replaces...
      const throwAway = only(
        await w.send(w.as(w.buyer).offers.bookInstant(fixed, w.nextHour + 40 * HOUR, 1, parseCredits("10"), 0, "")),
        "LeaseCreated",
      ).args.leaseId;
      const bid = await commit(w, w.buyer, terms({ replacesLease: Number(throwAway) }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      // ...released once every bid is public, used to make clearing refund the whole deposit.
      await w.send(w.as(w.buyer).leases.release(throwAway));
      await toClearing(w, round);
      const events = await clearAll(w, round);
      const created = only(events, "LeaseCreated");
      expect(created.args.replacesLease).toBe(0n);
      expect(names(events)).toContain("BidMatched");
    });

    it("refunds a bid naming an offer outside the round, or a node taken meanwhile", async () => {
      const fixed = await createOffer({ c: w.as(w.seller), send: w.send }, offerTerms(w.nextHour));
      const wrongOffer = await commit(w, w.buyer, terms({ offerId: fixed }), DEPOSIT);
      const taken = await commit(w, w.rival, terms({ start: start + 3 * HOUR }), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, wrongOffer);
      await reveal(w, w.rival, taken);
      await w.send(w.as(w.buyer).offers.bookInstant(fixed, start + 3 * HOUR, 1, parseCredits("10"), 0, ""));
      await w.send(w.as(w.seller).nodes.setStatus(w.nodes.small, NodeStatus.Maintenance));
      await toClearing(w, round);
      expect(names(await clearAll(w, round))).toEqual(["BidUnmatched", "BidUnmatched", "RoundCleared"]);
    });

    it("reaches the same result whether cleared in one call or in chunks", async () => {
      const bids = [];
      for (let i = 0; i < 6; i += 1) {
        const bidder = i % 2 === 0 ? w.buyer : w.rival;
        const t = terms({ pricePerHour: parseCredits(String(2 + (i % 3))), start: start + (i % 4) * HOUR });
        bids.push([bidder, await commit(w, bidder, t, DEPOSIT)] as const);
      }
      await toRevealWindow(w, round);
      for (const [bidder, bid] of bids) await reveal(w, bidder, bid);
      await toClearing(w, round);
      const snapshot = await w.connection.networkHelpers.takeSnapshot();
      const outcome = (events: Awaited<ReturnType<typeof clearAll>>) =>
        events
          .filter((e) => e.name === "BidMatched" || e.name === "BidUnmatched")
          .map((e) => [e.name, e.args.bidId, e.args.refund]);
      const oneCall = outcome(await clearAll(w, round, 100));
      await snapshot.restore();
      const chunked = outcome(await clearAll(w, round, 2));
      expect(chunked).toEqual(oneCall);
      expect(oneCall.filter(([name]) => name === "BidMatched")).toHaveLength(4);
    });
  });

  describe("unrevealed bids", () => {
    it("lose the penalty to the treasury and get the rest back, triggered by anyone", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await expectRevert(w.c.market.forfeitUnrevealed(w.buyer.address, bid.commitment), "RevealWindowOpen");
      await toClearing(w, round);
      const forfeited = only(
        await w.send(w.as(w.outsider).market.forfeitUnrevealed(w.buyer.address, bid.commitment)),
        "BidForfeited",
      );
      const penalty = DEPOSIT / 10n;
      expect(forfeited.args).toMatchObject({ roundId: BigInt(round), penalty, refund: DEPOSIT - penalty });
      expect(await available(w.buyer.address)).toBe(STARTING_CREDITS - penalty);
      expect(await available(w.treasury.address)).toBe(penalty);
      await expectRevert(w.c.market.forfeitUnrevealed(w.buyer.address, bid.commitment), "UnknownCommitment");
    });
  });

  describe("rounds", () => {
    it("follow the schedule: commits of the next round while this one reveals", async () => {
      const [commitOpens, commitCloses] = await w.c.market.commitWindow(round);
      const [revealOpens, revealCloses] = await w.c.market.revealWindow(round);
      expect(commitCloses - commitOpens).toBe(600n);
      expect(revealOpens).toBe(commitCloses);
      expect(revealCloses - revealOpens).toBe(300n);
      await toRevealWindow(w, round);
      expect(await currentRound(w)).toBe(round + 1);
    });

    it("put an unsold auction offer into a later round once its round is cleared", async () => {
      await expectRevert(
        w.as(w.seller).offers.enrollInRound(auctionOffer, 5n, `0x${"00".repeat(32)}`),
        "RoundNotCleared",
      );
      await toClearing(w, round);
      await clearAll(w, round);
      const enrolled = only(
        await w.send(w.as(w.seller).offers.enrollInRound(auctionOffer, 5n, `0x${"00".repeat(32)}`)),
        "OfferEnrolled",
      );
      expect(enrolled.args).toMatchObject({
        offerId: BigInt(auctionOffer),
        roundId: BigInt(round + 1),
        reservePerHour: 5n,
      });
      expect(await w.c.offers.offersInRound(round + 1)).toEqual([BigInt(auctionOffer)]);
      const fixed = await createOffer({ c: w.as(w.seller), send: w.send }, offerTerms(w.nextHour));
      await expectRevert(w.as(w.seller).offers.enrollInRound(fixed, 5n, `0x${"00".repeat(32)}`), "OfferUnfit");
    });

    it("do not let a seller close an auction offer between the bids and the clearing", async () => {
      const bid = await commit(w, w.buyer, terms(), DEPOSIT);
      await toRevealWindow(w, round);
      await reveal(w, w.buyer, bid);
      await expectRevert(w.as(w.seller).offers.closeOffer(auctionOffer), "RoundNotCleared", { roundId: BigInt(round) });
      await toClearing(w, round);
      await expectRevert(w.as(w.seller).offers.closeOffer(auctionOffer), "RoundNotCleared");
      expect(names(await clearAll(w, round))).toContain("BidMatched");
      await w.send(w.as(w.seller).offers.closeOffer(auctionOffer));
    });

    it("count a round nobody revealed in as cleared once its reveal window closes", async () => {
      expect(await w.c.market.isRoundCleared(round)).toBe(false);
      await toClearing(w, round);
      expect(await w.c.market.isRoundCleared(round)).toBe(true);
      await w.send(w.as(w.seller).offers.enrollInRound(auctionOffer, 5n, `0x${"00".repeat(32)}`));
    });

    it("take no offer of a suspended seller into a new round", async () => {
      await toClearing(w, round);
      await w.send(w.c.market.suspendTenant(w.tenants.provider));
      // A suspended tenant manages nothing: not even its own offers.
      await expectRevert(
        w.as(w.seller).offers.enrollInRound(auctionOffer, 5n, `0x${"00".repeat(32)}`),
        "NotOfferManager",
      );
    });

    it("keep a round's offers in enrolment order, an older offer that re-enrols after a newer one last", async () => {
      await toClearing(w, round);
      await clearAll(w, round);
      const newer = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(w.nextHour, { nodeId: w.nodes.small, model: PriceModel.Auction }),
      );
      await w.send(w.as(w.seller).offers.enrollInRound(auctionOffer, 1n, `0x${"00".repeat(32)}`));
      expect(await w.c.offers.offersInRound(round + 1)).toEqual([BigInt(newer), BigInt(auctionOffer)]);
    });
  });
});
