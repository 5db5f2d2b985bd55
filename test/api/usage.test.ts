import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { AgentStore } from "../../oracle/agent/store.js";
import { usageRecordHash } from "../../sdk/usage-record.js";
import { startUsageEndpoint, type UsageEndpoint } from "../../oracle/agent/usage-server.js";
import { attach, formatCredits } from "../../sdk/index.js";
import { NODE, closeMarket, listOffer, openChain, openMarket, restartGateway, type Market } from "./helpers.js";

interface Usage {
  lease: { leaseId: number };
  samples: { at: string; powerState: string; watts: number | null }[];
  metering: { recordHash: string } | null;
}

describe("usage of a lease, from the agent's samples", () => {
  let m: Market;
  let store: AgentStore;
  let endpoint: UsageEndpoint;
  let agentIndex: number;

  beforeAll(async () => {
    const chain = await openChain();
    store = await AgentStore.open(join(chain.directory, "agent.sqlite"));
    endpoint = await startUsageEndpoint(store, "127.0.0.1", 0);
    m = await openMarket(chain);
    agentIndex = 9;
    const agent = await (await chain.provider.getSigner(agentIndex)).getAddress();
    // The gateway reads this agent's samples from its usage endpoint.
    await restartGateway(m, { agentUsageUrls: { [agent.toLowerCase()]: endpoint.url } });
    const { node } = await m.seller.client.must<{ node: { nodeId: number } }>("POST", "/nodes", {
      resources: NODE,
      agent,
    });
    m.nodes.big = node.nodeId;
  });
  afterAll(async () => {
    await endpoint.close();
    store.close();
    await closeMarket(m);
  });

  it("answers samples, the record and its hash from the agent's endpoint, and 404 for other leases", async () => {
    store.addLease({ leaseId: 999, nodeId: 1, start: 0, end: 60 });
    store.addSample(999, { at: 1_000, powerState: "On", watts: 250 });
    const answer = (await (await fetch(`${endpoint.url}/leases/999/usage`)).json()) as {
      recordHash: string;
      record: string;
    };
    expect(answer.recordHash).toBe(usageRecordHash(999, [{ at: 1_000, powerState: "On", watts: 250 }]));
    expect(answer.record).toContain('"watts":250');
    expect((await fetch(`${endpoint.url}/leases/1000/usage`)).status).toBe(404);
    expect((await fetch(`${endpoint.url}/other`)).status).toBe(404);
  });

  it("shows the buyer the samples while they match what the agent anchored on-chain", async () => {
    const offer = await listOffer(m, { nodeId: m.nodes.big, start: m.hour });
    const { lease } = await m.buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${offer}-${m.hour}/request`,
      {
        duration: 60,
      },
    );
    const samples = [
      { at: m.hour * 1000, powerState: "On", watts: 310 },
      { at: (m.hour + 60) * 1000, powerState: "On", watts: 295 },
    ];
    store.addLease({ leaseId: lease.leaseId, nodeId: m.nodes.big, start: m.hour, end: m.hour + 3600 });
    for (const sample of samples) store.addSample(lease.leaseId, sample);
    const client = m.buyer.client;
    const live = await client.must<Usage>("GET", `/leases/${lease.leaseId}/usage`);
    expect(live.samples.map((s) => s.watts)).toEqual([310, 295]);
    expect(live.metering).toBeNull();

    // Once the agent anchors a record, samples that do not hash to it are not shown.
    const agent = attach(m.chain.deployment, await m.chain.provider.getSigner(agentIndex));
    await (await agent.leases.reportProvisioned(lease.leaseId, "10.0.0.5")).wait();
    await (
      await agent.leases.reportUsage(lease.leaseId, usageRecordHash(lease.leaseId, samples.slice(0, 1)), m.hour)
    ).wait();
    await m.gateway.services.indexer.catchUp();
    // What the record proves is shown: the samples up to the anchor, rebuilt into the anchored record.
    const anchored = await client.must<Usage>("GET", `/leases/${lease.leaseId}/usage`);
    expect(anchored.metering?.recordHash).toBe(usageRecordHash(lease.leaseId, samples.slice(0, 1)));
    expect(anchored.samples.map((s) => s.watts)).toEqual([310]);
    await (await agent.leases.reportUsage(lease.leaseId, usageRecordHash(lease.leaseId, samples), m.hour + 60)).wait();
    await m.gateway.services.indexer.catchUp();
    const matching = await client.must<Usage>("GET", `/timeslots/${offer}-${m.hour}/usage`);
    expect(matching.samples).toHaveLength(2);

    // A sample the agent adds inside the anchored span afterwards breaks the proof: nothing is shown.
    store.addSample(lease.leaseId, { at: (m.hour + 30) * 1000, powerState: "On", watts: 1 });
    const tampered = await client.must<Usage>("GET", `/leases/${lease.leaseId}/usage`);
    expect(tampered.samples).toEqual([]);
  });

  it("counts delivered time and its cost from provisioning, as the contract pays", async () => {
    // A node of its own: the big node still holds the lease above, not wiped, which no next lease may follow.
    const agentAddress = await (await m.chain.provider.getSigner(agentIndex)).getAddress();
    const { node } = await m.seller.client.must<{ node: { nodeId: number } }>("POST", "/nodes", {
      resources: NODE,
      agent: agentAddress,
    });
    const start = m.hour + 4 * 3600;
    const offer = await listOffer(m, { nodeId: node.nodeId, start, pricePerHour: "3.6" });
    const { lease } = await m.buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${offer}-${start}/request`,
      { duration: 60 },
    );
    // The node comes up half an hour late; the buyer looks a quarter of an hour later.
    await m.chain.advance(start + 1800 - (await m.chain.now()));
    const agent = attach(m.chain.deployment, await m.chain.provider.getSigner(agentIndex));
    await (await agent.leases.reportProvisioned(lease.leaseId, "10.0.0.6")).wait();
    const provisionedAt = await m.chain.now();
    await m.chain.advance(900);
    await m.gateway.services.indexer.catchUp();
    const usage = await m.buyer.client.must<{ elapsedSeconds: number; accrued: string }>(
      "GET",
      `/leases/${lease.leaseId}/usage`,
    );
    const elapsed = (await m.chain.now()) - provisionedAt;
    expect(usage.elapsedSeconds).toBe(elapsed);
    // 3.6 credits an hour is 1000 base units a second.
    expect(usage.accrued).toBe(formatCredits(1000n * BigInt(elapsed)));
  });
});
