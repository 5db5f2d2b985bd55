import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { closeMarket, listOffer, openMarket, type Market } from "./helpers.js";

describe("writes through the gateway", () => {
  let m: Market;
  let offer: number;

  beforeAll(async () => {
    m = await openMarket();
    offer = await listOffer(m, { nodeId: m.nodes.big, start: m.hour, end: m.hour + 100 * 3600, maxSlices: 1 });
  });
  afterAll(() => closeMarket(m));

  const leasesOnChain = async () => Number(await m.gateway.services.market.leases.leaseCount());

  it("answers a retried request from the first, sending nothing twice", async () => {
    const before = await leasesOnChain();
    const key = { "idempotency-key": "book-once" };
    const first = await m.buyer.client.post<{ lease: { leaseId: number } }>(
      `/timeslots/${offer}-${m.hour}/request`,
      { duration: 60 },
      key,
    );
    const retry = await m.buyer.client.post<{ lease: { leaseId: number } }>(
      `/timeslots/${offer}-${m.hour}/request`,
      { duration: 60 },
      key,
    );
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
    expect(await leasesOnChain()).toBe(before + 1);
  });

  it("refuses a key reused for another request, and a key still in flight", async () => {
    const reused = await m.buyer.client.post<{ field: string }>(
      `/timeslots/${offer}-${m.hour + 3600}/request`,
      { duration: 60 },
      { "idempotency-key": "book-once" },
    );
    expect(reused.status).toBe(422);
    expect(reused.body.field).toBe("header.Idempotency-Key");

    const before = await leasesOnChain();
    const key = { "idempotency-key": "raced" };
    const path = `/timeslots/${offer}-${m.hour + 2 * 3600}/request`;
    const answers = await Promise.all([1, 2, 3].map(() => m.buyer.client.post(path, { duration: 60 }, key)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(await leasesOnChain()).toBe(before + 1);
  });

  it("lets a request that failed on the chain be answered the same way when retried", async () => {
    const key = { "idempotency-key": "too-cheap" };
    const path = `/timeslots/${offer}-${m.hour + 3 * 3600}/request`;
    const first = await m.buyer.client.post(path, { duration: 60, bid: 1 }, key);
    const again = await m.buyer.client.post(path, { duration: 60, bid: 1 }, key);
    expect(first.status).toBe(409);
    expect(again.status).toBe(409);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });

  it("keeps one sender's nonces right under many concurrent requests", async () => {
    const before = await leasesOnChain();
    const hours = Array.from({ length: 20 }, (_, i) => m.hour + (10 + i) * 3600);
    const answers = await Promise.all(
      hours.map((start) =>
        m.buyer.client.post<{ lease: { leaseId: number } }>(`/timeslots/${offer}-${start}/request`, { duration: 60 }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(hours.map(() => 201));
    expect(new Set(answers.map((a) => a.body.lease.leaseId)).size).toBe(20);
    expect(await leasesOnChain()).toBe(before + 20);
  });

  it("keeps custodial keys sealed at rest", async () => {
    const rows = await m.gateway.services.db.all<{ address: string; sealed_key: string }>("SELECT * FROM wallets");
    expect(rows.length).toBeGreaterThan(3);
    for (const row of rows) {
      expect(row.sealed_key).toMatch(/^v1\./);
      expect(row.sealed_key).not.toMatch(/[0-9a-f]{64}/);
    }
    const me = await m.buyer.client.must<Record<string, unknown>>("GET", "/me");
    expect(JSON.stringify(me)).not.toMatch(/sealed|privateKey/i);
  });

  it("grants, takes, and handles credit requests", async () => {
    const request = await m.buyer.client.must<{ request: { requestId: number; status: string } }>(
      "POST",
      "/credits/requests",
      {
        amount: "50",
        reason: "render job",
      },
    );
    expect(request.request.status).toBe("pending");
    const pending = await m.admin.must<{ requests: { requestId: number }[] }>(
      "GET",
      "/credits/requests?status=pending",
    );
    expect(pending.requests.map((r) => r.requestId)).toContain(request.request.requestId);
    const before = await m.buyer.client.must<{ available: string }>("GET", "/credits/balance");
    await m.admin.must("POST", `/credits/requests/${request.request.requestId}/approve`);
    const after = await m.buyer.client.must<{ available: string }>("GET", "/credits/balance");
    expect(Number(after.available) - Number(before.available)).toBe(50);
    const rejected = await m.rival.client.must<{ request: { requestId: number } }>("POST", "/credits/requests", {
      amount: "5",
      reason: "more",
    });
    const decided = await m.admin.must<{ request: { status: string; decisionReason: string } }>(
      "POST",
      `/credits/requests/${rejected.request.requestId}/reject`,
      { reason: "budget" },
    );
    expect(decided.request).toMatchObject({ status: "rejected", decisionReason: "budget" });
    const taken = await m.admin.must<{ balance: { available: string } }>("POST", "/credits/take", {
      userId: m.buyer.userId,
      amount: "50",
    });
    expect(Number(taken.balance.available)).toBe(Number(after.available) - 50);
    const tooMuch = await m.admin.post<{ field: string }>("/credits/take", {
      userId: m.buyer.userId,
      amount: "999999",
    });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.field).toBe("body.amount");
  });

  it("lists dormant offers and preempts a lease on the owner's word", async () => {
    const dormant = await listOffer(m, { nodeId: m.nodes.small, start: m.hour });
    await m.chain.advance(2 * 3600);
    // An hour no other test books, still ahead after the jump (a slice from the clock could meet one).
    const start = m.hour + 5 * 3600;
    const lease = await m.buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${offer}-${start}/request`,
      {
        duration: 60,
      },
    );
    const { offers } = await m.admin.must<{ offers: { offerId: number }[] }>("GET", "/offers?dormantFor=1h");
    expect(offers.map((o) => o.offerId)).toContain(dormant);
    expect(offers.map((o) => o.offerId)).not.toContain(offer);
    // Backing out before the start costs the owner the cancellation fee (10%), paid to the buyer.
    const refused = await m.seller.client.post<{ revert: { name: string } }>(`/leases/${lease.lease.leaseId}/preempt`);
    expect([refused.status, refused.body.revert.name]).toEqual([409, "InsufficientCredits"]);
    await m.admin.must("POST", "/credits/grant", { userId: m.seller.userId, amount: "1" });
    const preempted = await m.seller.client.must<{
      lease: { status: string; endReason: string; refund: string };
      endsAt: string;
    }>("POST", `/leases/${lease.lease.leaseId}/preempt`);
    expect(preempted.lease).toMatchObject({ status: "ended", endReason: "preempted", refund: "2" });
    expect(Date.parse(preempted.endsAt)).toBeLessThan(start * 1000);
  });
});
