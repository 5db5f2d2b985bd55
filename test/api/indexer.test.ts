import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, type Db } from "../../api/db/database.js";
import { Indexer, ReadModelMismatchError } from "../../api/indexer/indexer.js";
import { READ_MODEL_TABLES } from "../../api/indexer/schema.js";
import { MemberRole, attach } from "../../sdk/index.js";
import { postgresBin, startPostgres } from "../helpers/postgres.js";
import { closeMarket, listOffer, openChain, openMarket, type Market } from "./helpers.js";

/** The read model's content, table by table, in a stable order; block bookkeeping left out. */
async function dump(db: Db): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of READ_MODEL_TABLES) {
    if (table === "indexed_blocks") continue;
    const rows = await db.all<Record<string, unknown>>(`SELECT * FROM ${table}`);
    const normalised = rows.map((row) =>
      Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === null ? null : String(value)])),
    );
    tables[table] = normalised.map((row) => JSON.stringify(row)).sort();
  }
  return tables;
}

async function rebuilt(m: Market, url: string): Promise<Db> {
  const db = await openDatabase(url);
  const indexer = new Indexer(db, m.chain.provider, m.chain.deployment, { blockRange: 7 });
  await indexer.open();
  await indexer.catchUp();
  return db;
}

describe("the read model", () => {
  let m: Market;

  beforeAll(async () => {
    m = await openMarket();
    const fixed = await listOffer(m, { nodeId: m.nodes.small, start: m.hour });
    await listOffer(m, { nodeId: m.nodes.big, start: m.hour, model: "dynamic", pricePerHour: "3", surgeBps: 2000 });
    await listOffer(m, { nodeId: m.nodes.big, start: m.hour + 86_400, model: "auction", pricePerHour: "1" });
    const { lease } = await m.buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${fixed}-${m.hour}/request`,
      {
        duration: 120,
      },
    );
    await m.buyer.client.must("POST", `/leases/${lease.leaseId}/release`);
    await m.rival.client.must("POST", `/timeslots/${fixed}-${m.hour + 3 * 3600}/request`, { duration: 60 });
    await m.rival.client.must("POST", "/credits/requests", { amount: "3", reason: "more" });
    await m.admin.must("POST", `/tenants/${m.tenants.rivals}/suspend`);
  });
  afterAll(() => closeMarket(m));

  const live = () => m.gateway.services.db;

  it("rebuilt from scratch equals what incremental indexing built", async () => {
    await m.gateway.services.indexer.catchUp();
    const db = await rebuilt(m, join(m.chain.directory, "rebuilt.sqlite"));
    const rebuiltTables = await dump(db);
    expect(rebuiltTables.events?.length).toBeGreaterThan(40);
    expect(rebuiltTables).toEqual(await dump(live()));
    await db.close();
  });

  it("resumes after a restart without missing or repeating an event", async () => {
    const path = join(m.chain.directory, "resumed.sqlite");
    const first = await rebuilt(m, path);
    await first.close();
    await m.admin.must("POST", "/tenants", { name: "Late Arrivals" });
    const again = await rebuilt(m, path);
    await m.gateway.services.indexer.catchUp();
    expect(await dump(again)).toEqual(await dump(live()));
    await again.close();
  });

  it("survives a reorganisation: orphaned events are dropped and the model matches a rebuild", async () => {
    const { provider } = m.chain;
    const snapshot = await provider.send("evm_snapshot", []);
    const orphan = await m.admin.must<{ tenant: { tenantId: number } }>("POST", "/tenants", { name: "Orphaned" });
    await m.gateway.services.indexer.catchUp();
    expect((await m.admin.must<{ name: string }>("GET", `/tenants/${orphan.tenant.tenantId}`)).name).toBe("Orphaned");

    await provider.send("evm_revert", [snapshot]);
    // Another history at the same heights: the operator makes a different tenant, then more blocks.
    const operator = attach(m.chain.deployment, await provider.getSigner(0));
    await (await operator.market.createTenant("Canonical")).wait();
    const other = await provider.getSigner(7);
    await (await operator.market.addMember(orphan.tenant.tenantId, await other.getAddress(), MemberRole.Buyer)).wait();
    for (let i = 0; i < 3; i += 1) await provider.send("evm_mine", []);

    const deadline = Date.now() + 10_000;
    while (m.gateway.services.indexer.status().reorgs === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await m.gateway.services.indexer.catchUp();
    expect(m.gateway.services.indexer.status().reorgs).toBeGreaterThan(0);
    expect((await m.admin.must<{ name: string }>("GET", `/tenants/${orphan.tenant.tenantId}`)).name).toBe("Canonical");
    const db = await rebuilt(m, join(m.chain.directory, "after-reorg.sqlite"));
    expect(await dump(db)).toEqual(await dump(live()));
    await db.close();
  });

  it("refuses a read model built from another chain", async () => {
    const elsewhere = await openChain();
    try {
      const indexer = new Indexer(live(), elsewhere.provider, elsewhere.deployment);
      await expect(indexer.open()).rejects.toThrow(ReadModelMismatchError);
    } finally {
      await elsewhere.close();
    }
  });

  it("exposes its lag as a metric", async () => {
    const text = (await m.auditor.client.request<string>("GET", "/metrics")).body;
    expect(text).toMatch(/^indexer_lag_blocks \d+$/m);
    expect(text).toMatch(/^indexer_reorgs_total [1-9]\d*$/m);
  });

  const bin = postgresBin();
  it.skipIf(bin === undefined && process.env.CI === undefined)(
    "builds the same read model in PostgreSQL as in SQLite",
    async () => {
      if (bin === undefined) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
      const postgres = await startPostgres(bin);
      try {
        const db = await rebuilt(m, postgres.url);
        expect(db.dialect).toBe("postgres");
        expect(await dump(db)).toEqual(await dump(live()));
        await db.close();
      } finally {
        await postgres.stop();
      }
    },
  );
});
