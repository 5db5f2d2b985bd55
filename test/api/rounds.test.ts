import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { QUORUM_LIKE } from "../../scripts/lib/local-chain.js";
import { leaseImage } from "../../sdk/index.js";
import { closeMarket, listOffer, openChain, openMarket, until, type Market, type Member } from "./helpers.js";

/**
 * A round of custodial bids on a chain like a QBFT network: a block every 2 s, Berlin rules, a 30M
 * block gas limit. The market is set up with a block per transaction (fast), then the chain
 * switches to block times for the round itself.
 */
const BUYERS = 8;
const BIDS_PER_BUYER = 6;
const SLOTS = 12;
const IMAGE = (i: number) => `https://images.example/bidder-${i}.iso`;

interface Bid {
  bidRef: string;
  roundId: number;
  state: string;
  revealOpensAt: string;
  revealClosesAt: string;
  leaseId: number | null;
  error: string | null;
}

describe("a round of custodial bids on a chain with 2 s blocks", () => {
  let m: Market;
  const buyers: Member[] = [];
  let auction: number;
  let start: number;

  beforeAll(async () => {
    const chain = await openChain({ hardfork: QUORUM_LIKE.hardfork, blockGasLimit: QUORUM_LIKE.blockGasLimit });
    m = await openMarket(chain, { chain: { blockSeconds: QUORUM_LIKE.blockSeconds } });
    start = m.hour + 2 * 3600;
    auction = await listOffer(m, {
      nodeId: m.nodes.big,
      start,
      model: "auction",
      pricePerHour: "1",
      maxSlices: SLOTS,
    });
    for (let i = 0; i < BUYERS; i += 1) {
      const tenant = await m.admin.must<{ tenant: { tenantId: number } }>("POST", "/tenants", { name: `Lab ${i}` });
      const created = await m.admin.must<{ apiKey: string; user: { userId: string; address: string } }>(
        "POST",
        `/tenants/${tenant.tenant.tenantId}/users`,
        { name: `Buyer ${i}`, email: `buyer${i}@labs.test`, roles: ["buyer"] },
      );
      await m.admin.must("POST", "/credits/grant", { userId: created.user.userId, amount: "1000" });
      buyers.push({ client: m.admin.as(created.apiKey), userId: created.user.userId, address: created.user.address });
    }
    await m.chain.useBlockTimes(QUORUM_LIKE.blockSeconds);
  }, 120_000);
  afterAll(() => closeMarket(m));

  it("reveals every bid in a burst of a block or two, clears the round, and books each lease with its image", async () => {
    // Every buyer bids on every slot it can reach, all at once: the commits share blocks.
    const placed = await Promise.all(
      buyers.flatMap((buyer, b) =>
        Array.from({ length: BIDS_PER_BUYER }, (_, k) =>
          buyer.client.must<Bid>("POST", "/bids", {
            offerId: auction,
            start: start + ((b + k) % SLOTS) * 3600,
            duration: 60,
            pricePerHour: String(2 + ((b * 7 + k * 3) % 11)),
            image: IMAGE(b),
          }),
        ),
      ),
    );
    expect(new Set(placed.map((bid) => bid.state))).toEqual(new Set(["committed"]));
    const roundId = placed[0]?.roundId ?? 0;
    expect(placed.every((bid) => bid.roundId === roundId)).toBe(true);

    const opensAt = Date.parse(placed[0]?.revealOpensAt ?? "") / 1000;
    await m.chain.advance(opensAt - (await m.chain.now()));
    const bids = () => m.admin.must<{ bids: Bid[] }>("GET", "/bids?all=true");
    await until(bids, ({ bids: all }) => all.every((bid) => bid.state !== "committed"), "every reveal");

    // One block holds the round's 48 reveals (about 150,000 gas each): the burst lands in one or two.
    const { market } = m.gateway.services.market;
    const revealed = await market.queryFilter(market.filters.BidRevealed(roundId));
    expect(revealed).toHaveLength(BUYERS * BIDS_PER_BUYER);
    expect(new Set(revealed.map((log) => log.blockNumber)).size).toBeLessThanOrEqual(2);

    const closesAt = Date.parse(placed[0]?.revealClosesAt ?? "") / 1000;
    await m.chain.advance(closesAt - (await m.chain.now()));
    const { bids: settled } = await until(
      bids,
      ({ bids: all }) => all.every((bid) => bid.state === "matched" || bid.state === "unmatched"),
      "clearing",
    );
    expect(settled.filter((bid) => bid.state === "missed")).toEqual([]);
    const won = settled.filter((bid) => bid.state === "matched");
    // Each slot goes to one bid: every slot some buyer reached is sold.
    expect(won).toHaveLength(SLOTS);

    // Each lease names its winner's image from the moment clearing created it.
    const { services } = m.gateway;
    for (const bid of won) {
      const image = await leaseImage(services.market, bid.leaseId ?? 0, services.deployment.blockNumber);
      const winner = placed.findIndex((p) => p.bidRef === bid.bidRef);
      expect(image).toBe(IMAGE(Math.floor(winner / BIDS_PER_BUYER)));
    }
  }, 120_000);
});
