import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { apiRoutes } from "../../api/routes/index.js";
import { Client, NODE, closeMarket, listOffer, openMarket, until, withOwnWallet, type Market } from "./helpers.js";

/**
 * One walk through the whole API, each endpoint answered with success at least once, checked
 * against the gateway's own request metrics; the other files test each area's rules in depth.
 */
describe("a tour of every endpoint", () => {
  let m: Market;

  beforeAll(async () => {
    m = await openMarket();
  });
  afterAll(() => closeMarket(m));

  it("answers every route of the API with success", async () => {
    const { admin, seller, buyer, auditor } = m;
    // Identity.
    const login = await new Client(m.gateway.url).must<{ token: string }>("POST", "/auth/login", {
      email: "admin@example.test",
      password: "operator-password",
    });
    const session = admin.as(login.token);
    await session.must("GET", "/me");
    const key = await session.must<{ keyId: string }>("POST", "/me/api-keys", { label: "tour" });
    await session.must("DELETE", `/me/api-keys/${key.keyId}`);
    // A wallet user signs in with their own account.
    const wallet = Wallet.createRandom();
    await admin.must(
      "POST",
      `/tenants/${m.tenants.buyers}/users`,
      await withOwnWallet(m.gateway.url, wallet, {
        name: "Wally Wallet",
        email: "wally@render.test",
        roles: ["buyer"],
      }),
    );
    const challenge = await new Client(m.gateway.url).must<{ message: string }>("POST", "/auth/wallet/challenge", {
      address: wallet.address,
    });
    await new Client(m.gateway.url).must("POST", "/auth/wallet", {
      message: challenge.message,
      signature: await wallet.signMessage(challenge.message),
    });
    await new Client(m.gateway.url).must("GET", "/chain");

    // Tenants and users.
    const spare = await admin.must<{ tenant: { tenantId: number } }>("POST", "/tenants", { name: "Spare" });
    await admin.must("GET", "/tenants");
    await admin.must("GET", `/tenants/${spare.tenant.tenantId}`);
    await admin.must("POST", `/tenants/${spare.tenant.tenantId}/suspend`);
    await admin.must("POST", `/tenants/${spare.tenant.tenantId}/resume`);
    const temp = await admin.must<{ user: { userId: string } }>("POST", `/tenants/${spare.tenant.tenantId}/users`, {
      name: "Temp",
      email: "temp@spare.test",
      roles: ["buyer"],
    });
    await admin.must("GET", `/tenants/${spare.tenant.tenantId}/users`);
    await admin.must("POST", "/users", { name: "Second admin", email: "second@ops.test", roles: ["admin"] });
    await auditor.client.must("GET", "/users");
    await admin.must("GET", `/users/${temp.user.userId}`);
    const roles = await admin.must<{ user: { roles: string[] } }>("PUT", `/users/${temp.user.userId}/roles`, {
      roles: ["buyer", "provider"],
    });
    expect(roles.user.roles).toEqual(["buyer", "provider"]);
    await admin.must("DELETE", `/users/${temp.user.userId}`);

    // Credits.
    await admin.must("POST", "/credits/grant", { userId: buyer.userId, amount: "10" });
    await admin.must("POST", "/credits/take", { userId: buyer.userId, amount: "10" });
    await buyer.client.must("GET", "/credits/balance");
    const asked = await buyer.client.must<{ request: { requestId: number } }>("POST", "/credits/requests", {
      amount: "5",
      reason: "tour",
    });
    const again = await buyer.client.must<{ request: { requestId: number } }>("POST", "/credits/requests", {
      amount: "6",
      reason: "tour",
    });
    await admin.must("GET", "/credits/requests");
    await admin.must("POST", `/credits/requests/${asked.request.requestId}/approve`);
    await admin.must("POST", `/credits/requests/${again.request.requestId}/reject`, { reason: "once is enough" });

    // Nodes.
    const { node } = await seller.client.must<{ node: { nodeId: number } }>("POST", "/nodes", {
      resources: NODE,
      agent: "0x00000000000000000000000000000000000000bb",
    });
    await buyer.client.must("GET", "/nodes?cpu=8");
    await buyer.client.must("GET", `/nodes/${node.nodeId}`);
    await buyer.client.must("GET", `/nodes/${node.nodeId}/calendar`);
    await seller.client.must("POST", `/nodes/${node.nodeId}/status`, { status: "maintenance" });
    await seller.client.must("POST", `/nodes/${node.nodeId}/status`, { status: "available" });

    // Offers.
    const fixed = await listOffer(m, { nodeId: node.nodeId, start: m.hour });
    const auction = await listOffer(m, {
      nodeId: m.nodes.small,
      start: m.hour + 86_400,
      model: "auction",
      pricePerHour: "1",
    });
    await buyer.client.must("GET", "/offers?model=fixed");
    await buyer.client.must("GET", `/offers/${fixed}`);
    await seller.client.must("POST", `/offers/${fixed}/price`, { pricePerHour: "3" });

    // Time-slices and leases.
    await buyer.client.must("GET", `/timeslots?cpu=2&ram=4&start=${m.hour}`);
    const first = await buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${fixed}-${m.hour}/request`,
      {
        duration: 60,
      },
    );
    await buyer.client.must("GET", `/timeslots/${fixed}-${m.hour}/usage`);
    await buyer.client.must("POST", `/timeslots/${fixed}-${m.hour}/release`);
    const second = await buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${fixed}-${m.hour + 3600}/request`,
      { duration: 60 },
    );
    const third = await buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${fixed}-${m.hour + 7200}/request`,
      { duration: 60 },
    );
    await buyer.client.must("GET", "/leases");
    await buyer.client.must("GET", `/leases/${first.lease.leaseId}`);
    await buyer.client.must("GET", `/leases/${second.lease.leaseId}/usage`);
    await buyer.client.must("POST", `/leases/${second.lease.leaseId}/release`);
    await admin.must("POST", "/credits/grant", { userId: seller.userId, amount: "10" });
    await seller.client.must("POST", `/leases/${third.lease.leaseId}/preempt`);

    // Bids.
    const round = await buyer.client.must<{ revealOpensAt: string; revealClosesAt: string }>("GET", "/rounds/current");
    const bid = await buyer.client.must<{ bidRef: string }>("POST", "/bids", {
      offerId: auction,
      start: m.hour + 86_400,
      duration: 60,
      pricePerHour: "2",
    });
    await buyer.client.must("GET", "/bids");
    await buyer.client.must("GET", `/bids/${bid.bidRef}`);
    // Once the round is cleared, the auction offer enters the next round; a fixed one can close.
    const bidState = () => buyer.client.must<{ state: string }>("GET", `/bids/${bid.bidRef}`);
    await m.chain.advance(Date.parse(round.revealOpensAt) / 1000 - (await m.chain.now()));
    await until(bidState, (b) => b.state === "revealed", "the reveal");
    await m.chain.advance(Date.parse(round.revealClosesAt) / 1000 - (await m.chain.now()));
    await until(bidState, (b) => b.state === "matched", "clearing");
    await seller.client.must("POST", `/offers/${auction}/enroll`, { reservePerHour: "1" });
    await seller.client.must("POST", `/offers/${fixed}/close`);

    // Market, audit, notifications.
    await buyer.client.must("GET", "/market/prices?cpu=2&ram=4");
    await auditor.client.must("GET", "/market/overview");
    await auditor.client.must("GET", "/audit/events?limit=10");
    const stream = new AbortController();
    const response = await fetch(`${m.gateway.url}/notifications/stream`, {
      headers: { authorization: `Bearer ${buyer.client.token}` },
      signal: stream.signal,
    });
    expect(response.status).toBe(200);
    stream.abort();
    const hook = await buyer.client.must<{ webhookId: string }>("POST", "/webhooks", {
      url: "http://127.0.0.1:9/hook",
    });
    await buyer.client.must("GET", "/webhooks");
    await admin.must("POST", "/credits/grant", { userId: buyer.userId, amount: "1", memo: "for the webhook" });
    const { deliveries } = await until(
      () =>
        buyer.client.must<{ deliveries: { notificationId: string }[] }>(
          "GET",
          `/webhooks/${hook.webhookId}/deliveries`,
        ),
      (answer) => answer.deliveries.length > 0,
      "a delivery to the webhook",
    );
    // Its attempts run out in about 13 s at the tests' backoff; the tour ends them at once.
    const notificationId = deliveries[0]?.notificationId ?? "";
    await m.gateway.services.db.run(
      "UPDATE webhook_deliveries SET status = 'dead' WHERE webhook_id = $1 AND notification_id = $2",
      [hook.webhookId, notificationId],
    );
    await buyer.client.must("POST", `/webhooks/${hook.webhookId}/deliveries/${notificationId}/retry`);
    await buyer.client.must("DELETE", `/webhooks/${hook.webhookId}`);
    await session.must("POST", "/auth/logout");

    // Every route answered a 2xx at least once, by the gateway's own count.
    const metrics = (await m.auditor.client.request<string>("GET", "/metrics")).body;
    const answered = new Set(
      [...metrics.matchAll(/^http_requests_total\{method="(\w+)",route="([^"]+)",status="2\d\d"\}/gm)].map(
        ([, method, route]) => `${method} ${route}`,
      ),
    );
    const missing = apiRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`).filter((r) => !answered.has(r));
    expect(missing).toEqual([]);
  });
});
