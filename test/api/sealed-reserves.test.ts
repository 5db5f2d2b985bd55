import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { closeMarket, listOffer, openMarket, until, type Market } from "./helpers.js";

interface Bid {
  bidRef: string;
  state: string;
  revealOpensAt: string;
  revealClosesAt: string;
}

interface Offer {
  offerId: number;
  pricePerHour: string | null;
  roundId: number | null;
}

describe("sealed reserves through the gateway", () => {
  let m: Market;

  beforeAll(async () => {
    m = await openMarket();
  });
  afterAll(() => closeMarket(m));

  it("keeps an auction's reserve secret until the reveal window, reveals it, and sells nothing below it", async () => {
    const start = m.hour + 2 * 3600;
    const offerId = await listOffer(m, {
      nodeId: m.nodes.big,
      start,
      model: "auction",
      pricePerHour: "4",
      sealedReserve: true,
    });
    // Nobody, the seller's own view included, sees the reserve; the gateway keeps it sealed.
    const listed = await m.buyer.client.must<Offer>("GET", `/offers/${offerId}`);
    expect(listed.pricePerHour).toBeNull();
    expect((await m.gateway.services.market.offers.offerOf(offerId)).reserveSealed).toBe(true);
    const stored = await m.gateway.services.db.all<{ sealed: string; state: string }>(
      "SELECT sealed, state FROM sealed_reserves",
    );
    expect(stored.map((row) => row.state)).toEqual(["enrolled"]);
    expect(stored.map((row) => row.sealed).join()).not.toMatch(/reservePerHour|salt|4000000/);

    // Two bids on two hours: one below the reserve, one above it.
    const bid = (hour: number, price: number, client = m.buyer.client) =>
      client.must<{ bid: Bid }>("POST", `/timeslots/${offerId}-${start + hour * 3600}/request`, {
        duration: 60,
        bid: price,
      });
    const below = (await bid(0, 3)).bid;
    const above = (await bid(1, 5, m.rival.client)).bid;

    await m.chain.advance(Date.parse(below.revealOpensAt) / 1000 - (await m.chain.now()));
    const revealed = await until(
      () => m.buyer.client.must<Offer>("GET", `/offers/${offerId}`),
      (offer) => offer.pricePerHour !== null,
      "the reserve's reveal",
    );
    expect(revealed.pricePerHour).toBe("4");

    await m.chain.advance(Date.parse(below.revealClosesAt) / 1000 - (await m.chain.now()));
    const settled = async (client: typeof m.buyer.client, bidRef: string) =>
      until(
        () => client.must<Bid>("GET", `/bids/${bidRef}`),
        (b) => b.state === "matched" || b.state === "unmatched",
        "clearing",
      );
    expect((await settled(m.buyer.client, below.bidRef)).state).toBe("unmatched");
    expect((await settled(m.rival.client, above.bidRef)).state).toBe("matched");
  });

  it("refuses a sealed reserve on an offer that is not an auction, naming the field", async () => {
    const answer = await m.seller.client.post<{ field: string }>("/offers", {
      nodeId: m.nodes.small,
      start: m.hour + 3600,
      end: m.hour + 5 * 3600,
      sliceSeconds: 3600,
      maxSlices: 2,
      model: "fixed",
      pricePerHour: "2",
      sealedReserve: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe("body.sealedReserve");
    expect(await m.gateway.services.db.all("SELECT 1 FROM sealed_reserves WHERE state = 'sealed'")).toEqual([]);
  });
});
