import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { closeMarket, listOffer, openMarket, restartGateway, until, type Market } from "./helpers.js";

const WINNER_IMAGE = "https://images.example/winner.iso";

interface Bid {
  bidRef: string;
  roundId: number;
  state: string;
  deposit: string;
  revealOpensAt: string;
  revealClosesAt: string;
  terms: { pricePerHour: string } | null;
  leaseId: number | null;
}

describe("sealed bids through the gateway", () => {
  let m: Market;
  let auction: number;
  let start: number;

  beforeAll(async () => {
    m = await openMarket();
    start = m.hour + 2 * 3600;
    auction = await listOffer(m, { nodeId: m.nodes.big, start, model: "auction", pricePerHour: "1" });
  });
  afterAll(() => closeMarket(m));

  it("commits sealed bids, reveals them after a gateway restart, and clears the round: highest bid wins", async () => {
    const sliceId = `${auction}-${start}`;
    const high = await m.buyer.client.must<{ kind: string; bid: Bid }>("POST", `/timeslots/${sliceId}/request`, {
      duration: 60,
      bid: 3,
      deposit: "10",
      image: WINNER_IMAGE,
    });
    const low = await m.rival.client.must<{ kind: string; bid: Bid }>("POST", `/timeslots/${sliceId}/request`, {
      duration: 60,
      bid: 2.5,
    });
    expect(high).toMatchObject({ kind: "bid", bid: { state: "committed", terms: { pricePerHour: "3" } } });
    // Without a deposit of its own, the bid's is padded to its bucket: 2.5 credits' cost, 5 escrowed.
    expect(low.bid.deposit).toBe("5");
    expect(await m.rival.client.must("GET", "/credits/balance")).toMatchObject({ escrowed: "5" });
    expect(low.bid.roundId).toBe(high.bid.roundId);

    // Until the reveal, nobody but the bidder sees the terms, and the gateway keeps them sealed.
    const all = await m.admin.must<{ bids: Bid[] }>("GET", "/bids?all=true");
    expect(all.bids.find((b) => b.bidRef === high.bid.bidRef)?.terms).toBeNull();
    expect((await m.rival.client.get(`/bids/${high.bid.bidRef}`)).status).toBe(404);
    const stored = await m.gateway.services.db.all<{ sealed: string }>("SELECT sealed FROM sealed_bids");
    expect(stored.map((row) => row.sealed).join()).not.toMatch(/pricePerHour|salt|3000000/);

    // The gateway stops; the chain moves into the reveal window; a new gateway process takes over.
    const opensAt = Date.parse(high.bid.revealOpensAt) / 1000;
    await restartGateway(m, {}, async () => m.chain.advance(opensAt - (await m.chain.now())));
    const buyer = m.buyer.client;
    const rival = m.rival.client;
    await until(
      () => buyer.must<Bid>("GET", `/bids/${high.bid.bidRef}`),
      (b) => b.state === "revealed",
      "the reveal",
    );
    await until(
      () => rival.must<Bid>("GET", `/bids/${low.bid.bidRef}`),
      (b) => b.state === "revealed",
      "the reveal",
    );

    const closesAt = Date.parse(high.bid.revealClosesAt) / 1000;
    await m.chain.advance(closesAt - (await m.chain.now()));
    const won = await until(
      () => buyer.must<Bid>("GET", `/bids/${high.bid.bidRef}`),
      (b) => b.state === "matched",
      "clearing",
    );
    const lost = await until(
      () => rival.must<Bid>("GET", `/bids/${low.bid.bidRef}`),
      (b) => b.state === "unmatched",
      "clearing",
    );
    expect(lost.leaseId).toBeNull();
    // The lease the bid won boots the image the bid named.
    const lease = await until(
      () =>
        buyer.must<{ pricePerHour: string; cost: string; status: string; image: string }>(
          "GET",
          `/leases/${won.leaseId}`,
        ),
      (l) => l.image !== "",
      "the won lease's image",
    );
    expect(lease.image).toBe(WINNER_IMAGE);
    expect(lease).toMatchObject({ pricePerHour: "3", cost: "3", status: "pending" });
    // The loser's whole deposit is free again; the winner keeps only the cost escrowed.
    expect(await rival.must("GET", "/credits/balance")).toMatchObject({ available: "1000", escrowed: "0" });
    expect(await buyer.must("GET", "/credits/balance")).toMatchObject({ available: "997", escrowed: "3" });
    // Revealed bids show their terms to everyone allowed to list them.
    const revealed = await m.admin.must<{ bids: Bid[] }>("GET", "/bids?all=true");
    expect(revealed.bids.find((b) => b.bidRef === high.bid.bidRef)?.terms?.pricePerHour).toBe("3");
  });

  it("refuses a bid on an auction offer that is not in the current round", async () => {
    // The first test moved the chain past the round the offer was listed in.
    const stale = await m.buyer.client.post<{ field: string; detail: string }>(
      `/timeslots/${auction}-${start + 3600}/request`,
      { duration: 60, bid: 3 },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.field).toBe("path.sliceId");
    expect(stale.body.detail).toMatch(/is not in round \d+'s auction/);
    await m.seller.client.must("POST", `/offers/${auction}/enroll`, { reservePerHour: "1" });
  });

  it("refuses a bid on an auction without a price, and a deposit below the bid's cost", async () => {
    const client = m.buyer.client;
    const missing = await client.post<{ field: string }>(`/timeslots/${auction}-${start + 3600}/request`, {
      duration: 60,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe("body.bid");
    const short = await client.post<{ field: string }>(`/timeslots/${auction}-${start + 3600}/request`, {
      duration: 120,
      bid: 5,
      deposit: "1",
    });
    expect(short.status).toBe(400);
    expect(short.body.field).toBe("body.deposit");
  });

  it("names the contract's error for a commit refused on-chain, and keeps the bid as failed", async () => {
    const refused = await m.rival.client.post<{ revert: { name: string }; status: number }>("/bids", {
      offerId: auction,
      start: start + 4 * 3600,
      duration: 60,
      pricePerHour: "2",
      deposit: "50000",
    });
    expect(refused.status).toBe(409);
    expect(refused.body.revert.name).toBe("InsufficientCredits");
    const mine = await m.rival.client.must<{ bids: Bid[] }>("GET", "/bids");
    expect(mine.bids.filter((b) => b.state === "failed")).toHaveLength(1);
  });

  it("places a pool bid for any node of a profile", async () => {
    const client = m.buyer.client;
    const bid = await client.post<Bid>("/bids", {
      profileId: 0,
      start: start + 5 * 3600,
      duration: 60,
      pricePerHour: "2",
    });
    expect(bid.status).toBe(201);
    expect(bid.body).toMatchObject({ state: "committed", terms: { pricePerHour: "2" } });
  });
});
