import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { RunningGateway } from "../../api/gateway.js";
import {
  ManagedSigner,
  MemberRole,
  attach,
  fetchEvents,
  parseCredits,
  revealWindow,
  roundAt,
  sealBid,
} from "../../sdk/index.js";
import { waitFor } from "../helpers/wait.js";
import { Client, openChain, openGateway, type Chain } from "./helpers.js";

const DEPOSIT = parseCredits("20");

describe("the gateway's keeper", () => {
  let chain: Chain;
  let gateway: RunningGateway;

  beforeAll(async () => {
    chain = await openChain();
  });
  afterAll(async () => {
    await gateway?.close();
    await chain.close();
  });

  it("forfeits a bid nobody revealed, signed by the operator's wallet, and counts it in /metrics", async () => {
    const { deployment } = chain;
    const operator = attach(deployment, new ManagedSigner(await chain.provider.getSigner(0)));
    const bidder = new ManagedSigner(await chain.provider.getSigner(1));
    const buyer = attach(deployment, bidder);
    const address = await bidder.getAddress();
    await (await operator.market.createTenant("Forgetful Buyers")).wait();
    await (await operator.market.addMember(1, address, MemberRole.Buyer)).wait();
    await (await operator.credits.grant(address, DEPOSIT, "welcome")).wait();
    await (await buyer.credits["transferAndCall(address,uint256)"](deployment.contracts.market, DEPOSIT)).wait();
    const round = roundAt(deployment.schedule, await chain.now());
    const terms = {
      roundId: round,
      offerId: 0,
      profileId: 0,
      start: (await chain.now()) + 7200,
      duration: 3600,
      pricePerHour: parseCredits("2"),
      replacesLease: 0,
    };
    const bid = sealBid({ chainId: deployment.chainId, market: deployment.contracts.market }, address, terms, DEPOSIT);
    await (await buyer.market.commitBid(bid.commitment, DEPOSIT, round)).wait();

    gateway = await openGateway(chain, { keeper: { enabled: true, pollIntervalMs: 50 } });
    await chain.advance(revealWindow(deployment.schedule, round).closesAt - (await chain.now()));

    await waitFor("the forfeit", async () => (await buyer.market.commitOf(address, bid.commitment)).deposit === 0n);
    const [forfeited] = await fetchEvents(chain.provider, deployment, 0, "latest", {
      contract: "market",
      events: ["BidForfeited"],
    });
    const sent = await chain.provider.getTransaction(forfeited?.transactionHash ?? "");
    expect(sent?.from.toLowerCase()).toBe(gateway.services.operator);
    expect((await buyer.market.accountOf(address)).available).toBe(DEPOSIT - DEPOSIT / 10n);
    const metrics = (await new Client(gateway.url, gateway.bootstrapApiKey).request<string>("GET", "/metrics")).body;
    expect(metrics).toMatch(/^keeper_forfeited_total 1$/m);
    expect(metrics).toMatch(/^keeper_cleared_total 0$/m);
  });
});
