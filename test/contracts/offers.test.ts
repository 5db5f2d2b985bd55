import { beforeEach, describe, expect, it } from "vitest";

import {
  busyIntervals,
  leaseCost,
  parseCredits,
  wordsCovering,
  PriceModel,
  NodeStatus,
  Unfit,
} from "../../sdk/index.js";
import { expectRevert } from "../helpers/revert.js";
import {
  CALENDAR_UNIT,
  HOUR,
  STARTING_CREDITS,
  createOffer,
  offerTerms,
  only,
  openWorld,
  type World,
} from "../helpers/world.js";

const NO_IMAGE = "";
const MAX_PRICE = parseCredits("1000");

describe("Offers", () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
  });

  const seller = () => ({ c: w.as(w.seller), send: w.send });
  const book = (offerId: number, start: number, slices: number, maxPrice = MAX_PRICE) =>
    w.as(w.buyer).offers.bookInstant(offerId, start, slices, maxPrice, 0, NO_IMAGE);

  describe("listing", () => {
    it("lists a fixed-price offer with its terms", async () => {
      const terms = offerTerms(w.nextHour, { nodeId: w.nodes.big });
      const created = only(await w.send(w.as(w.seller).offers.createOffer(terms)), "OfferCreated");
      expect(created.args).toMatchObject({ offerId: 1n, nodeId: BigInt(w.nodes.big), seller: w.seller.address });
      const offer = await w.c.offers.offerOf(1);
      expect([offer.start, offer.end, offer.sliceSeconds, offer.pricePerHour]).toEqual([
        BigInt(terms.start),
        BigInt(terms.end),
        BigInt(HOUR),
        parseCredits("2"),
      ]);
      expect(await w.c.offers.offersOfNode(w.nodes.big)).toEqual([1n]);
      expect(await w.c.offers.postedPrice(1)).toBe(parseCredits("2"));
    });

    it("names the first invalid field of bad terms", async () => {
      const offers = w.as(w.seller).offers;
      const now = w.nextHour;
      const cases: [Partial<ReturnType<typeof offerTerms>>, string][] = [
        [{ sliceSeconds: 4 }, "sliceSeconds"],
        [{ sliceSeconds: 90 }, "sliceSeconds"],
        [{ start: now + 30 }, "window"],
        [{ end: now }, "window"],
        [{ end: now + HOUR + 120 }, "end"],
        [{ minSlices: 0 }, "slices"],
        [{ minSlices: 5, maxSlices: 4 }, "slices"],
        [{ sliceSeconds: CALENDAR_UNIT, maxSlices: 8193, end: now + 9000 * CALENDAR_UNIT }, "maxSlices"],
        [{ minSlices: 25, maxSlices: 30 }, "minSlices"],
        [{ fromHour: 24 }, "hours"],
        [{ pricePerHour: 0n }, "pricePerHour"],
        [{ sealedReserve: `0x${"ab".repeat(32)}` }, "sealedReserve"],
        [{ surgeBps: 100 }, "surgeBps"],
        [{ model: PriceModel.Dynamic, surgeBps: 50_001 }, "surgeBps"],
        [{ model: PriceModel.Auction, pricePerHour: 1n, sealedReserve: `0x${"ab".repeat(32)}` }, "sealedReserve"],
      ];
      for (const [override, field] of cases) {
        await expectRevert(offers.createOffer(offerTerms(now, override)), "InvalidOfferTerms", { field });
      }
    });

    it("lets only providers of the node's tenant list it, and only while it is available", async () => {
      const terms = offerTerms(w.nextHour);
      await expectRevert(w.as(w.buyer).offers.createOffer(terms), "NotActiveMember");
      await expectRevert(w.as(w.seller).offers.createOffer({ ...terms, nodeId: 99 }), "UnknownNode");
      await w.send(w.as(w.seller).nodes.setStatus(terms.nodeId, NodeStatus.Maintenance));
      await expectRevert(w.as(w.seller).offers.createOffer(terms), "NodeUnavailable");
    });

    it("closes and reprices offers for their seller only", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      await expectRevert(w.as(w.buyer).offers.setPrice(offerId, 1n), "NotOfferManager");
      const repriced = only(await w.send(w.as(w.seller).offers.setPrice(offerId, 5n)), "OfferRepriced");
      expect(repriced.args.pricePerHour).toBe(5n);
      await expectRevert(w.as(w.seller).offers.setPrice(offerId, 0n), "InvalidOfferTerms", { field: "pricePerHour" });
      await expectRevert(w.as(w.buyer).offers.closeOffer(offerId), "NotOfferManager");
      await w.send(w.as(w.seller).offers.closeOffer(offerId));
      await expectRevert(w.as(w.seller).offers.closeOffer(offerId), "OfferUnfit", { reason: BigInt(Unfit.Closed) });
      await expectRevert(book(offerId, w.nextHour, 1), "OfferUnfit", { reason: BigInt(Unfit.Closed) });
    });
  });

  describe("instant booking at a fixed price", () => {
    it("escrows the cost, books the calendar and makes the lease", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      const events = await w.send(
        w.as(w.buyer).offers.bookInstant(offerId, w.nextHour, 2, MAX_PRICE, 0, "https://img/ubuntu.iso"),
      );
      const cost = leaseCost(parseCredits("2"), 2 * HOUR);
      expect(only(events, "CreditsEscrowed").args).toEqual({ account: w.buyer.address, amount: cost });
      const created = only(events, "LeaseCreated");
      expect(created.args).toMatchObject({
        buyer: w.buyer.address,
        nodeId: BigInt(w.nodes.big),
        start: BigInt(w.nextHour),
        end: BigInt(w.nextHour + 2 * HOUR),
        cost,
      });
      expect(only(events, "LeaseImageSet").args.image).toBe("https://img/ubuntu.iso");
      expect(only(events, "OfferBooked").args.pricePerHour).toBe(parseCredits("2"));
      const [available, escrowed] = await w.c.market.accountOf(w.buyer.address);
      expect([available, escrowed]).toEqual([STARTING_CREDITS - cost, cost]);
      expect(await w.c.offers.isFree(w.nodes.big, w.nextHour, w.nextHour + 2 * HOUR)).toBe(false);
      expect(await w.c.offers.isFree(w.nodes.big, w.nextHour + 2 * HOUR, w.nextHour + 3 * HOUR)).toBe(true);
    });

    it("never books a node twice for overlapping time, first come first served", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      await w.send(book(offerId, w.nextHour + HOUR, 2));
      await expectRevert(
        w.as(w.rival).offers.bookInstant(offerId, w.nextHour, 2, MAX_PRICE, 0, NO_IMAGE),
        "OfferUnfit",
        {
          reason: BigInt(Unfit.Booked),
        },
      );
      await w.send(w.as(w.rival).offers.bookInstant(offerId, w.nextHour, 1, MAX_PRICE, 0, NO_IMAGE));
      await w.send(w.as(w.rival).offers.bookInstant(offerId, w.nextHour + 3 * HOUR, 1, MAX_PRICE, 0, NO_IMAGE));
    });

    it("shares one calendar between every offer of a node, whatever the price model", async () => {
      const fixed = await createOffer(seller(), offerTerms(w.nextHour));
      const dynamic = await createOffer(
        seller(),
        offerTerms(w.nextHour, { model: PriceModel.Dynamic, surgeBps: 5000 }),
      );
      await w.send(book(fixed, w.nextHour, 2));
      await expectRevert(book(dynamic, w.nextHour + HOUR, 1), "OfferUnfit", { reason: BigInt(Unfit.Booked) });
      await w.send(book(dynamic, w.nextHour + 2 * HOUR, 1));
      const other = await createOffer(seller(), offerTerms(w.nextHour, { nodeId: w.nodes.small }));
      await w.send(book(other, w.nextHour, 2));
    });

    it("refuses bookings that do not fit the offer, naming why", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour, { minSlices: 2, maxSlices: 3 }));
      const unfit = async (start: number, slices: number, reason: number) =>
        expectRevert(book(offerId, start, slices), "OfferUnfit", { offerId: BigInt(offerId), reason: BigInt(reason) });
      await unfit(w.nextHour + 60, 2, Unfit.Misaligned);
      await unfit(w.nextHour, 1, Unfit.SliceCount);
      await unfit(w.nextHour, 4, Unfit.SliceCount);
      await unfit(w.nextHour, 65_535, Unfit.SliceCount);
      await unfit(w.nextHour + 23 * HOUR, 2, Unfit.OutsideWindow);
      await unfit(w.nextHour - HOUR, 2, Unfit.OutsideWindow);
      await w.connection.networkHelpers.time.increaseTo(w.nextHour + 2 * HOUR);
      await unfit(w.nextHour, 2, Unfit.Started);
    });

    it("sells an off-peak offer only inside its daily hours, across midnight", async () => {
      const midnight = Math.ceil(w.nextHour / 86_400) * 86_400 + 86_400;
      const offerId = await createOffer(
        seller(),
        offerTerms(midnight - 2 * HOUR, { end: midnight + 22 * HOUR, fromHour: 22, toHour: 6, maxSlices: 10 }),
      );
      await w.send(book(offerId, midnight - 2 * HOUR, 8));
      await expectRevert(book(offerId, midnight + 5 * HOUR, 2), "OfferUnfit", { reason: BigInt(Unfit.OutsideHours) });
      await expectRevert(book(offerId, midnight + 12 * HOUR, 1), "OfferUnfit", { reason: BigInt(Unfit.OutsideHours) });
    });

    it("tells ahead of time why a booking would not fit", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour, { minSlices: 2 }));
      expect(await w.c.offers.fitOf(offerId, w.nextHour, 2 * HOUR)).toBe(0n);
      expect(await w.c.offers.fitOf(offerId, w.nextHour, HOUR)).toBe(BigInt(Unfit.SliceCount));
      await w.send(book(offerId, w.nextHour, 2));
      expect(await w.c.offers.fitOf(offerId, w.nextHour + HOUR, 2 * HOUR)).toBe(BigInt(Unfit.Booked));
      await w.send(w.as(w.seller).nodes.setStatus(w.nodes.big, NodeStatus.Maintenance));
      expect(await w.c.offers.fitOf(offerId, w.nextHour + 4 * HOUR, 2 * HOUR)).toBe(BigInt(Unfit.NodeUnavailable));
      await expectRevert(w.c.offers.fitOf(99, w.nextHour, HOUR), "UnknownOffer");
    });

    it("refuses to book a node in maintenance or of a suspended seller", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      await w.send(w.as(w.seller).nodes.setStatus(w.nodes.big, NodeStatus.Maintenance));
      await expectRevert(book(offerId, w.nextHour, 1), "OfferUnfit", { reason: BigInt(Unfit.NodeUnavailable) });
      await w.send(w.as(w.seller).nodes.setStatus(w.nodes.big, NodeStatus.Available));
      await w.send(w.c.market.suspendTenant(w.tenants.provider));
      await expectRevert(book(offerId, w.nextHour, 1), "OfferUnfit", { reason: BigInt(Unfit.SellerInactive) });
    });

    it("refuses outsiders, auctions, unknown offers and buyers short of credits", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour, { pricePerHour: STARTING_CREDITS }));
      await expectRevert(
        w.as(w.outsider).offers.bookInstant(offerId, w.nextHour, 1, MAX_PRICE, 0, NO_IMAGE),
        "NotActiveMember",
      );
      await expectRevert(book(99, w.nextHour, 1), "UnknownOffer");
      await expectRevert(book(offerId, w.nextHour, 2, 2n * STARTING_CREDITS), "InsufficientCredits", {
        available: STARTING_CREDITS,
        needed: 2n * STARTING_CREDITS,
      });
      const auction = await createOffer(seller(), offerTerms(w.nextHour, { model: PriceModel.Auction }));
      await expectRevert(book(auction, w.nextHour, 1), "OfferUnfit", { reason: BigInt(Unfit.WrongModel) });
    });

    it("protects the buyer from a price raised while its booking is in flight", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      await w.send(w.as(w.seller).offers.setPrice(offerId, parseCredits("9")));
      await expectRevert(book(offerId, w.nextHour, 1, parseCredits("2")), "PriceAboveLimit", {
        pricePerHour: parseCredits("9"),
        maxPricePerHour: parseCredits("2"),
      });
    });

    it("refuses to replace a lease the buyer does not hold", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      const leaseId = only(await w.send(book(offerId, w.nextHour, 1)), "LeaseCreated").args.leaseId;
      await expectRevert(
        w.as(w.rival).offers.bookInstant(offerId, w.nextHour + HOUR, 1, MAX_PRICE, leaseId, NO_IMAGE),
        "NotReplaceable",
        { leaseId },
      );
    });
  });

  describe("dynamic pricing", () => {
    it("raises the posted price with the share booked, up to the cap", async () => {
      const base = parseCredits("2");
      const offerId = await createOffer(
        seller(),
        offerTerms(w.nextHour, { model: PriceModel.Dynamic, surgeBps: 10_000, end: w.nextHour + 8 * HOUR }),
      );
      expect(await w.c.offers.postedPrice(offerId)).toBe(base);
      const events = await w.send(book(offerId, w.nextHour, 2));
      expect(only(events, "OfferBooked").args.pricePerHour).toBe(base);
      // 2 of 8 slices booked: +25% of the 100% surge.
      expect(await w.c.offers.postedPrice(offerId)).toBe(base + base / 4n);
      await w.send(book(offerId, w.nextHour + 2 * HOUR, 4));
      await w.send(book(offerId, w.nextHour + 6 * HOUR, 2));
      expect(await w.c.offers.postedPrice(offerId)).toBe(2n * base);
    });

    it("charges the price posted when the booking lands, and the next buyer more", async () => {
      const offerId = await createOffer(
        seller(),
        offerTerms(w.nextHour, { model: PriceModel.Dynamic, surgeBps: 10_000 }),
      );
      const first = only(await w.send(book(offerId, w.nextHour, 4)), "LeaseCreated").args.cost;
      const second = only(await w.send(book(offerId, w.nextHour + 4 * HOUR, 4)), "LeaseCreated").args.cost;
      expect(second).toBeGreaterThan(first);
      expect(first).toBe(leaseCost(parseCredits("2"), 4 * HOUR));
    });
  });

  describe("calendar reads", () => {
    it("lists an offer's free slices and the node's booked intervals", async () => {
      const offerId = await createOffer(seller(), offerTerms(w.nextHour));
      await w.send(book(offerId, w.nextHour + HOUR, 2));
      const free = await w.c.offers.freeSlices(offerId, w.nextHour, 4);
      expect(free.map(Number)).toEqual([
        w.nextHour,
        w.nextHour + 3 * HOUR,
        w.nextHour + 4 * HOUR,
        w.nextHour + 5 * HOUR,
      ]);
      const { fromWord, count } = wordsCovering(w.nextHour, w.nextHour + 24 * HOUR, CALENDAR_UNIT);
      const words = await w.c.offers.calendarWords(w.nodes.big, fromWord, count);
      expect(busyIntervals(words, fromWord, CALENDAR_UNIT)).toEqual([
        { start: w.nextHour + HOUR, end: w.nextHour + 3 * HOUR },
      ]);
    });
  });

  it("lets only the Market match bids and only the lease registry release calendar time", async () => {
    const bid = {
      terms: {
        roundId: 1,
        offerId: 1,
        profileId: 0,
        start: w.nextHour,
        duration: HOUR,
        pricePerHour: 1n,
        replacesLease: 0,
      },
      buyer: w.buyer.address,
      bidId: 1,
    };
    await expectRevert(w.as(w.buyer).offers.matchBid(bid), "UnauthorizedCaller");
    await expectRevert(w.as(w.seller).offers.releaseCalendar(1, w.nextHour, w.nextHour + HOUR), "UnauthorizedCaller");
  });
});
