import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { AGENT_STORE_MIGRATIONS, AgentStore } from "../../oracle/agent/store.js";

describe("the agent's store", () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "metalmarket-agent-store-"));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it("upgrades a store made by the previous release, keeping its leases and checkpoint", async () => {
    const path = join(directory, "agent.sqlite");
    // The previous release: its tables, created in place, and no record of migrations.
    const old = new DatabaseSync(path);
    const baseline = AGENT_STORE_MIGRATIONS[0];
    if (baseline === undefined) throw new Error("no baseline");
    await baseline.up({
      dialect: "sqlite",
      all: () => Promise.resolve([]),
      run: () => Promise.resolve(0),
      exec: async (sql) => old.exec(sql),
      transaction: (work) => Promise.reject(new Error(`not used: ${String(work)}`)),
    });
    old.exec("INSERT INTO meta (key, value) VALUES ('checkpoint', '41')");
    old.exec(
      "INSERT INTO leases (lease_id, node_id, start, end, phase, updated_at) VALUES (7, 3, 100, 200, 'running', 1)",
    );
    old.close();

    const store = await AgentStore.open(path);
    try {
      expect(store.checkpoint()).toBe(41);
      expect(store.lease(7)).toMatchObject({ leaseId: 7, nodeId: 3, phase: "running" });
    } finally {
      store.close();
    }
    const again = new DatabaseSync(path);
    const applied = again.prepare("SELECT name FROM schema_migrations ORDER BY name").all();
    again.close();
    expect(applied.map((row) => row.name)).toEqual(AGENT_STORE_MIGRATIONS.map((m) => m.name));
  });
});
