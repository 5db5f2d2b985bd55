import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { closeMarket, listOffer, openMarket, type Market } from "./helpers.js";

interface Record_ {
  id: number;
  event: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  args: Record<string, unknown>;
  verified?: boolean;
  verifyError?: string;
}

describe("audit queries", () => {
  let m: Market;
  let leaseId: number;
  let offer: number;

  beforeAll(async () => {
    m = await openMarket();
    offer = await listOffer(m, { nodeId: m.nodes.small, start: m.hour });
    const booked = await m.buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${offer}-${m.hour}/request`,
      {
        duration: 60,
      },
    );
    leaseId = booked.lease.leaseId;
    await m.buyer.client.must("POST", `/leases/${leaseId}/release`);
    await m.rival.client.must("POST", `/timeslots/${offer}-${m.hour + 3600}/request`, { duration: 60 });
  });
  afterAll(() => closeMarket(m));

  const audit = (query: string) =>
    m.auditor.client.must<{ events: Record_[]; next: number | null }>("GET", `/audit/events?${query}`);

  it("lists a lease's whole story with tx hash, block and log index, each verified against the chain", async () => {
    const { events } = await audit(`lease=${leaseId}&verify=true`);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["LeaseCreated", "LeaseEnded", "OfferBooked"]));
    for (const event of events) {
      expect(event.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(event.verified).toBe(true);
    }
  });

  it("filters by account, node, event type and block range, and pages with a cursor", async () => {
    const byType = await audit("type=LeaseCreated,LeaseEnded");
    expect(new Set(byType.events.map((e) => e.event))).toEqual(new Set(["LeaseCreated", "LeaseEnded"]));
    const mine = await audit(`account=${m.rival.address}&type=LeaseCreated`);
    expect(mine.events).toHaveLength(1);
    expect(mine.events[0]?.args.buyer).toMatch(new RegExp(m.rival.address, "i"));
    const onNode = await audit(`node=${m.nodes.small}&type=LeaseCreated`);
    expect(onNode.events).toHaveLength(2);
    const first = onNode.events[0]?.blockNumber ?? 0;
    const ranged = await audit(`node=${m.nodes.small}&type=LeaseCreated&fromBlock=${first + 1}`);
    expect(ranged.events).toHaveLength(1);

    const all = await audit("limit=1000");
    const pages: Record_[] = [];
    let after: number | null = -1;
    while (after !== null) {
      const page = await audit(`limit=7${after >= 0 ? `&after=${after}` : ""}`);
      pages.push(...page.events);
      after = page.next;
    }
    expect(pages.map((e) => e.id)).toEqual(all.events.map((e) => e.id));
  });

  it("shows a tampered record as not verified", async () => {
    const { events } = await audit(`lease=${leaseId}&type=LeaseCreated`);
    const record = events[0];
    if (record === undefined) throw new Error("no LeaseCreated");
    const { db } = m.gateway.services;
    const row = await db.get<{ record: string }>("SELECT record FROM events WHERE id = $1", [record.id]);
    const stored = JSON.parse(row?.record ?? "{}") as Record_;
    const tampered = JSON.stringify({ ...stored, args: { ...stored.args, cost: "1" } });
    await db.run("UPDATE events SET record = $2 WHERE id = $1", [record.id, tampered]);
    try {
      const checked = await audit(`lease=${leaseId}&type=LeaseCreated&verify=true`);
      expect(checked.events[0]).toMatchObject({ verified: false, verifyError: "the log's event or arguments differ" });
    } finally {
      await db.run("UPDATE events SET record = $2 WHERE id = $1", [record.id, row?.record ?? "{}"]);
    }
  });

  it("exports NDJSON and CSV of every matching record", async () => {
    const json = await audit("limit=1000");
    const ndjson = await m.auditor.client.request<string>("GET", "/audit/events?format=ndjson");
    expect(ndjson.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = ndjson.body
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record_);
    expect(lines.map((l) => l.id)).toEqual(json.events.map((e) => e.id));
    const csv = await m.auditor.client.request<string>("GET", "/audit/events?type=LeaseCreated", undefined, {
      accept: "text/csv",
    });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const rows = csv.body.trim().split("\n");
    expect(rows[0]).toBe("id,blockNumber,logIndex,txHash,timestamp,contract,event,args,verified");
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('"LeaseCreated"');
  });

  it("shows a buyer only the events of their own account", async () => {
    const { events } = await m.buyer.client.must<{ events: Record_[] }>("GET", "/audit/events?type=LeaseCreated");
    expect(events).toHaveLength(1);
    expect(String(events[0]?.args.buyer).toLowerCase()).toBe(m.buyer.address);
  });

  it("rejects filters that are not valid, naming them", async () => {
    const answer = await m.auditor.client.get<{ field: string }>("/audit/events?account=bob");
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe("query.account");
    const type = await m.auditor.client.get<{ field: string }>("/audit/events?type=Lease;Drop");
    expect(type.body.field).toBe("query.type");
  });

  it("answers market price statistics for a configuration", async () => {
    const prices = await m.buyer.client.must<{
      overall: { sales: number; average: string; median: string; last: string };
    }>("GET", "/market/prices?cpu=2&ram=4");
    expect(prices.overall).toMatchObject({ sales: 2, average: "2", median: "2", last: "2" });
    const none = await m.buyer.client.must<{ overall: { sales: number; average: null } }>(
      "GET",
      "/market/prices?cpu=64",
    );
    expect(none.overall).toMatchObject({ sales: 0, average: null });
  });
});
