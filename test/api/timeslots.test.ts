import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { closeMarket, listOffer, openMarket, type Market } from "./helpers.js";

interface Slice {
  sliceId: string;
  offerId: number;
  start: string;
  model: string;
  pricePerHour: string | null;
}
interface Lease {
  leaseId: number;
  status: string;
  cost: string;
  refund: string | null;
  endReason: string | null;
  pricePerHour: string | null;
}

describe("the time-slice API", () => {
  let m: Market;
  let fixed: number;
  let offPeak: number;
  let dynamic: number;

  beforeAll(async () => {
    m = await openMarket();
    fixed = await listOffer(m, { nodeId: m.nodes.small, start: m.hour });
    offPeak = await listOffer(m, { nodeId: m.nodes.big, start: m.hour, hours: { from: 20, to: 6 }, pricePerHour: "5" });
    dynamic = await listOffer(m, {
      nodeId: m.nodes.big,
      start: m.hour + 48 * 3600,
      model: "dynamic",
      pricePerHour: "4",
      surgeBps: 5000,
    });
  });
  afterAll(() => closeMarket(m));

  const search = (query: string) =>
    m.buyer.client.must<{ slices: Slice[]; next: string | null }>("GET", `/timeslots?${query}`);

  it("lists the free slices that meet the needs in a time range, earliest listed offer first", async () => {
    const start = new Date(m.hour * 1000).toISOString();
    const end = new Date((m.hour + 3 * 3600) * 1000).toISOString();
    const { slices } = await search(`cpu=2&ram=4&start=${start}&end=${end}`);
    const fixedSlices = slices.filter((s) => s.offerId === fixed);
    expect(fixedSlices.map((s) => s.start)).toEqual(
      [0, 1, 2].map((i) => new Date((m.hour + i * 3600) * 1000).toISOString()),
    );
    expect(fixedSlices[0]).toMatchObject({ sliceId: `${fixed}-${m.hour}`, model: "fixed", pricePerHour: "2" });
    expect(slices.map((s) => s.offerId)).toEqual([...slices.map((s) => s.offerId)].sort((a, b) => a - b));
  });

  it("leaves out nodes too small for the needs", async () => {
    const { slices } = await search(`cpu=8&ram=32&start=${m.hour}&end=${m.hour + 86_400}`);
    expect(slices.some((s) => s.offerId === fixed)).toBe(false);
    expect(slices.some((s) => s.offerId === offPeak)).toBe(true);
  });

  it("keeps an off-peak offer's slices inside its daily hours", async () => {
    const { slices } = await search(`cpu=8&start=${m.hour}&end=${m.hour + 86_400}&model=fixed`);
    const hours = slices.filter((s) => s.offerId === offPeak).map((s) => new Date(s.start).getUTCHours());
    expect(hours.length).toBeGreaterThan(0);
    expect(hours.every((h) => h >= 20 || h < 6)).toBe(true);
  });

  it("pages through slices with `after`", async () => {
    const first = await search(`start=${m.hour}&end=${m.hour + 86_400}&limit=5`);
    expect(first.slices).toHaveLength(5);
    const second = await search(`start=${m.hour}&end=${m.hour + 86_400}&limit=5&after=${first.next ?? ""}`);
    const ids = [...first.slices, ...second.slices].map((s) => s.sliceId);
    expect(new Set(ids).size).toBe(10);
  });

  it("books a fixed-price slice at once, and the booked slices stop being free", async () => {
    const sliceId = `${fixed}-${m.hour + 3600}`;
    const answer = await m.buyer.client.post<{ kind: string; state: string; lease: Lease }>(
      `/timeslots/${sliceId}/request`,
      { duration: 120, bid: 0.5 + 2 },
    );
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      kind: "lease",
      state: "booked",
      lease: { status: "pending", cost: "4", pricePerHour: "2" },
    });
    const { slices } = await search(`start=${m.hour}&end=${m.hour + 4 * 3600}&cpu=2`);
    const free = slices.filter((s) => s.offerId === fixed).map((s) => s.sliceId);
    expect(free).toEqual([`${fixed}-${m.hour}`, `${fixed}-${m.hour + 3 * 3600}`]);
  });

  it("refuses to pay more than the bid for a posted price, naming the contract's error", async () => {
    const answer = await m.buyer.client.post<{ revert: { name: string } }>(`/timeslots/${fixed}-${m.hour}/request`, {
      duration: 60,
      bid: 1,
    });
    expect(answer.status).toBe(409);
    expect(answer.headers.get("content-type")).toContain("application/problem+json");
    expect(answer.body.revert.name).toBe("PriceAboveLimit");
  });

  it("says why a booking does not fit its offer: a slice booked already", async () => {
    const sliceId = `${fixed}-${m.hour + 10 * 3600}`;
    await m.buyer.client.must("POST", `/timeslots/${sliceId}/request`, { duration: 60 });
    const again = await m.rival.client.post<{ detail: string; revert: { name: string } }>(
      `/timeslots/${sliceId}/request`,
      { duration: 60 },
    );
    expect([again.status, again.body.revert.name]).toEqual([409, "OfferUnfit"]);
    expect(again.body.detail).toBe(
      "OfferUnfit: the booking does not fit the offer: Booked (the time is booked already)",
    );
  });

  it("raises a dynamic offer's price as it sells", async () => {
    const before = await m.buyer.client.must<{ pricePerHour: string }>("GET", `/offers/${dynamic}`);
    expect(before.pricePerHour).toBe("4");
    const start = m.hour + 48 * 3600;
    const booked = await m.rival.client.must<{ lease: Lease }>("POST", `/timeslots/${dynamic}-${start}/request`, {
      duration: 240,
    });
    expect(booked.lease.pricePerHour).toBe("4");
    // 4 of 24 slices sold, surge 50%: 4 + 4 * 0.5 * 4/24.
    const after = await m.buyer.client.must<{ pricePerHour: string }>("GET", `/offers/${dynamic}`);
    expect(after.pricePerHour).toBe("4.333333");
    const onChain = await m.gateway.services.market.offers.postedPrice(dynamic);
    expect(onChain).toBe(4_333_333n);
  });

  it("answers usage and releases early with a refund of the time not delivered", async () => {
    const sliceId = `${fixed}-${m.hour + 3 * 3600}`;
    const booked = await m.rival.client.must<{ lease: Lease }>("POST", `/timeslots/${sliceId}/request`, {
      duration: 60,
    });
    const usage = await m.rival.client.must<{ lease: Lease; elapsedSeconds: number; accrued: string }>(
      "GET",
      `/timeslots/${sliceId}/usage`,
    );
    expect(usage).toMatchObject({ lease: { leaseId: booked.lease.leaseId }, elapsedSeconds: 0, accrued: "0" });
    const released = await m.rival.client.must<{ lease: Lease }>("POST", `/timeslots/${sliceId}/release`);
    expect(released.lease).toMatchObject({ status: "ended", endReason: "released", refund: "2" });
    const free = await search(`start=${m.hour + 3 * 3600}&end=${m.hour + 4 * 3600}&cpu=2`);
    expect(free.slices.map((s) => s.sliceId)).toContain(sliceId);
  });

  it("does not show another buyer's lease usage", async () => {
    const answer = await m.buyer.client.get(`/timeslots/${fixed}-${m.hour + 3 * 3600}/usage`);
    expect(answer.status).toBe(404);
  });

  it.each([
    ["a duration that is not whole slices", { duration: 90 }, "body.duration"],
    ["more slices than the offer allows", { duration: 600 }, "body.duration"],
    ["a negative bid", { duration: 60, bid: -1 }, "body.bid"],
    ["an unknown field", { duration: 60, colour: "red" }, "body"],
    ["a missing duration", {}, "body.duration"],
  ])("rejects %s, naming the field", async (_name, body, field) => {
    const answer = await m.buyer.client.post<{ field: string; status: number }>(
      `/timeslots/${fixed}-${m.hour}/request`,
      body,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe(field);
  });

  it("rejects a slice id that is not one, and query parameters of the wrong type", async () => {
    const bad = await m.buyer.client.post<{ field: string }>("/timeslots/nonsense/request", { duration: 60 });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("path.sliceId");
    const misaligned = await m.buyer.client.post<{ field: string }>(`/timeslots/${fixed}-${m.hour + 1}/request`, {
      duration: 60,
    });
    expect(misaligned.body.field).toBe("path.sliceId");
    const query = await m.buyer.client.get<{ field: string }>("/timeslots?cpu=lots");
    expect(query.status).toBe(400);
    expect(query.body.field).toBe("query.cpu");
    const time = await m.buyer.client.get<{ field: string }>("/timeslots?start=yesterday");
    expect(time.body.field).toBe("query.start");
  });
});
