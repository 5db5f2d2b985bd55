import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { RunningGateway } from "../../api/gateway.js";
import { postgresBin, startPostgres, type TemporaryPostgres } from "../helpers/postgres.js";
import { Client, openChain, openGateway, type Chain } from "./helpers.js";

const bin = postgresBin();
const databases = bin === undefined && process.env.CI === undefined ? ["sqlite"] : ["sqlite", "postgres"];

describe.each(databases)("a first booking, with the gateway's state in %s", (database) => {
  let chain: Chain;
  let gateway: RunningGateway;
  let admin: Client;
  let postgres: TemporaryPostgres | undefined;

  beforeAll(async () => {
    chain = await openChain();
    if (database === "postgres") {
      if (bin === undefined) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
      postgres = await startPostgres(bin);
    }
    gateway = await openGateway(chain, postgres === undefined ? {} : { database: postgres.url });
    admin = new Client(gateway.url, gateway.bootstrapApiKey);
  });
  afterAll(async () => {
    await gateway?.close();
    await postgres?.stop();
    await chain.close();
  });

  it("creates tenants and users, lists an offer, and books a slice", async () => {
    const { tenant } = await admin.must<{ tenant: { tenantId: number } }>("POST", "/tenants", { name: "Rack Owners" });
    const buyers = await admin.must<{ tenant: { tenantId: number } }>("POST", "/tenants", { name: "Render Farm" });
    const seller = await admin.must<{ apiKey: string; user: { userId: string } }>(
      "POST",
      `/tenants/${tenant.tenantId}/users`,
      { name: "Sam Seller", email: "sam@racks.test", roles: ["provider", "tenantAdmin"] },
    );
    const buyer = await admin.must<{ apiKey: string; user: { userId: string } }>(
      "POST",
      `/tenants/${buyers.tenant.tenantId}/users`,
      { name: "Bea Buyer", email: "bea@render.test", roles: ["buyer"] },
    );
    await admin.must("POST", "/credits/grant", { userId: buyer.user.userId, amount: "100" });
    const sam = admin.as(seller.apiKey);
    const { node } = await sam.must<{ node: { nodeId: number } }>("POST", "/nodes", {
      resources: { cores: 16, memoryGiB: 64, storageGB: 1000, networkGbps: 10, gpus: 0, arch: 1 },
      agent: "0x00000000000000000000000000000000000000aa",
    });
    const now = await chain.now();
    const start = Math.ceil(now / 3600) * 3600;
    const { offer } = await sam.must<{ offer: { offerId: number } }>("POST", "/offers", {
      nodeId: node.nodeId,
      start,
      end: start + 24 * 3600,
      sliceSeconds: 3600,
      maxSlices: 4,
      model: "fixed",
      pricePerHour: "2",
    });
    const bea = admin.as(buyer.apiKey);
    const slots = await bea.must<{ slices: { sliceId: string }[] }>("GET", `/timeslots?cpu=2&ram=4&start=${start}`);
    expect(slots.slices.length).toBe(24);
    const first = slots.slices[0]?.sliceId ?? "";
    expect(first).toBe(`${offer.offerId}-${start}`);
    const booked = await bea.must<{ kind: string; lease: { leaseId: number; cost: string } }>(
      "POST",
      `/timeslots/${first}/request`,
      { duration: 120 },
    );
    expect(booked.kind).toBe("lease");
    expect(booked.lease.cost).toBe("4");
    const after = await bea.must<{ slices: { sliceId: string }[] }>("GET", `/timeslots?cpu=2&ram=4&start=${start}`);
    expect(after.slices.length).toBe(22);
    const me = await bea.must<{ credits: { available: string; escrowed: string } }>("GET", "/me");
    expect(me.credits).toMatchObject({ available: "96", escrowed: "4" });
    const audit = await admin.must<{ events: { event: string }[] }>(
      "GET",
      `/audit/events?lease=${booked.lease.leaseId}&verify=true`,
    );
    expect(audit.events.map((e) => e.event)).toContain("LeaseCreated");
    expect(audit.events.every((e) => (e as { verified?: boolean }).verified === true)).toBe(true);
  });
});
