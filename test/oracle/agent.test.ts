import type { TransactionRequest } from "ethers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { BmcFleet } from "../../oracle/bmc-sim/fleet.js";
import { ProviderAgent } from "../../oracle/agent/agent.js";
import { AgentStore } from "../../oracle/agent/store.js";
import { usageRecordHash } from "../../sdk/usage-record.js";
import { EndReason, LeaseStatus, ManagedSigner, NodeStatus, attach } from "../../sdk/index.js";
import type { LogFields, Logger } from "../../sdk/log.js";
import {
  FAST_AGENT,
  MeddlingSigner,
  SLICE_SECONDS,
  LEASE_IMAGE,
  WIPE_IMAGE,
  bookNow,
  listNow,
  operated,
  startAgent,
  startFleet,
  waitForPhase,
} from "../helpers/agent.js";
import { waitFor } from "../helpers/wait.js";
import { bigNode, openWorld, registerNode, type World } from "../helpers/world.js";

describe("the provider agent", () => {
  let world: World;
  let fleet: BmcFleet;
  let agent: ProviderAgent;
  let store: AgentStore;

  beforeEach(async () => {
    world = await openWorld();
    fleet = await startFleet(2);
    ({ agent, store } = await startAgent(world, [
      operated(world.nodes.big, fleet.bmc(0)),
      operated(world.nodes.small, fleet.bmc(1)),
    ]));
  });

  afterEach(async () => {
    await agent.stop();
    store.close();
    await fleet.close();
    await world.connection.close();
  });

  const leaseOf = async (leaseId: number) => world.c.leases.leaseOf(leaseId);
  const detailsOf = async (leaseId: number) => world.c.leases.detailsOf(leaseId);
  const available = async () => (await world.c.market.accountOf(world.buyer.address)).available;

  it("boots a new lease's image from virtual CD and reports the node's address on-chain", async () => {
    const bmc = fleet.bmc(0);
    const leaseId = await bookNow(world, await listNow(world, world.nodes.big), 2);

    await waitForPhase(store, leaseId, "running");
    expect((await leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));
    expect((await detailsOf(leaseId)).nodeAddress).toBe(bmc.ipv4);
    expect(bmc.powerState).toBe("On");
    expect(bmc.boots.at(-1)).toEqual({ target: "Cd", image: LEASE_IMAGE });
    // A one-time override is spent by the boot it served.
    expect(bmc.bootOverride.enabled).toBe("Disabled");
    expect(store.steps(leaseId).map((s) => s.step)).toEqual([
      "power-off",
      "eject-media",
      "insert-image",
      "boot-once-cd",
      "power-on",
      "report-provisioned",
    ]);
  });

  it("cleans the node after an early release and anchors the usage record's hash", async () => {
    const bmc = fleet.bmc(0);
    const leaseId = await bookNow(world, await listNow(world, world.nodes.big), 2);
    await waitForPhase(store, leaseId, "running");
    await waitFor("a few usage samples", () => store.samples(leaseId).length >= 3);

    await world.send(world.as(world.buyer).leases.release(leaseId));
    await waitForPhase(store, leaseId, "done");

    const lease = await leaseOf(leaseId);
    expect(lease.status).toBe(BigInt(LeaseStatus.Cleaned));
    expect(lease.endReason).toBe(BigInt(EndReason.Released));
    expect(bmc.boots.map((b) => b.image)).toEqual([LEASE_IMAGE, WIPE_IMAGE]);
    expect(bmc.powerState).toBe("Off");
    expect(bmc.cd).toEqual({ image: null, inserted: false });
    const samples = store.samples(leaseId);
    expect(samples.every((s) => s.powerState === "On" && (s.watts ?? 0) > 100)).toBe(true);
    expect((await detailsOf(leaseId)).usageRecord).toBe(usageRecordHash(leaseId, samples));
  });

  it("settles a lease that ran to its end, then cleans the node", async () => {
    const leaseId = await bookNow(world, await listNow(world, world.nodes.small), 1);
    await waitForPhase(store, leaseId, "running");

    await world.connection.networkHelpers.time.increase(120);
    await waitForPhase(store, leaseId, "done");

    const lease = await leaseOf(leaseId);
    expect(lease.status).toBe(BigInt(LeaseStatus.Cleaned));
    expect(lease.endReason).toBe(BigInt(EndReason.Expired));
    expect(
      store
        .steps(leaseId)
        .filter((s) => s.sequence === "end" && s.result === "done")
        .map((s) => s.step),
    ).toContain("close-lease");
  });

  it("reports a lease failed, refunding the buyer, when the BMC keeps failing", async () => {
    const bmc = fleet.bmc(0);
    bmc.faults = { failAll: true };
    const before = await available();
    const leaseId = await bookNow(world, await listNow(world, world.nodes.big), 2);

    await waitFor("the failure on-chain", async () => (await leaseOf(leaseId)).status === BigInt(LeaseStatus.Ended));
    const lease = await leaseOf(leaseId);
    expect(lease.endReason).toBe(BigInt(EndReason.Failed));
    expect(await available()).toBe(before);
    // The node is cleaned once the BMC answers again.
    bmc.faults = {};
    await waitForPhase(store, leaseId, "done");
    expect((await leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Cleaned));
  });

  it("holds a node whose wipe failed for good, and never hands it to the next tenant unwiped", async () => {
    const bmc = fleet.bmc(0);
    const offer = await listNow(world, world.nodes.big);
    const first = await bookNow(world, offer, 1);
    await waitForPhase(store, first, "running");
    // The virtual CD breaks for good: the wipe image cannot be inserted.
    bmc.faults = { notFound: ["VirtualMedia/CD1"] };
    await world.send(world.as(world.buyer).leases.release(first));
    await waitForPhase(store, first, "stuck");
    await waitFor(
      "the node held on-chain",
      async () => (await world.c.nodes.node(world.nodes.big)).status === BigInt(NodeStatus.Maintenance),
    );
    expect(await world.c.leases.unwipedLeaseOf(world.nodes.big)).toBe(BigInt(first));

    // Its provider brings it back by mistake, and a buyer books the next slice: refused, refunded, never booted.
    await world.send(world.as(world.seller).nodes.setStatus(world.nodes.big, NodeStatus.Available));
    bmc.faults = {};
    const boots = bmc.boots.length;
    const before = await available();
    await world.connection.networkHelpers.time.increase(SLICE_SECONDS);
    const next = await bookNow(world, offer, 1);
    await waitFor("the next lease refused", async () => (await leaseOf(next)).status === BigInt(LeaseStatus.Ended));
    expect((await leaseOf(next)).endReason).toBe(BigInt(EndReason.Failed));
    expect(await available()).toBe(before);
    expect(bmc.boots.length).toBe(boots);
    expect((await world.c.nodes.node(world.nodes.big)).status).toBe(BigInt(NodeStatus.Maintenance));
  });

  it("reports a lease failed when the node's power never comes on", async () => {
    const bmc = fleet.bmc(1);
    bmc.setState({ power: "Off" });
    bmc.faults = { stuckPower: true };
    const leaseId = await bookNow(world, await listNow(world, world.nodes.small), 1);

    const lease = await waitForPhase(store, leaseId, "ending");
    expect(lease.endCause).toMatch(/^Failed: power-on: power stayed Off/);
    bmc.faults = {};
    await waitForPhase(store, leaseId, "done");
    expect((await leaseOf(leaseId)).endReason).toBe(BigInt(EndReason.Failed));
  });

  it("keeps provisioning other leases while one BMC is down", async () => {
    fleet.bmc(0).faults = { dropNext: 1_000 };
    const stalled = await bookNow(world, await listNow(world, world.nodes.big), 2);
    const healthy = await bookNow(world, await listNow(world, world.nodes.small), 2);

    await waitForPhase(store, healthy, "running");
    expect(store.lease(stalled)?.phase).not.toBe("running");
  });

  it("rides out a few dropped connections and 503s without failing the lease", async () => {
    fleet.bmc(0).faults = { dropNext: 1, failNext: 2 };
    const leaseId = await bookNow(world, await listNow(world, world.nodes.big), 2);
    await waitForPhase(store, leaseId, "running");
    expect(fleet.bmc(0).requests.filter((r) => r.status === 503 || r.status === 0)).toHaveLength(3);
  });

  it("stops a start sequence and cleans up when the buyer releases before provisioning ends", async () => {
    const bmc = fleet.bmc(0);
    bmc.faults = { latencyMs: 30 };
    const leaseId = await bookNow(world, await listNow(world, world.nodes.big), 2);
    await waitFor("the start to begin", () => store.lease(leaseId)?.phase === "starting");
    await world.send(world.as(world.buyer).leases.release(leaseId));

    await waitForPhase(store, leaseId, "done");
    expect((await leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Cleaned));
    expect((await detailsOf(leaseId)).nodeAddress).toBe("");
  });

  it("ignores leases on nodes another agent operates", async () => {
    const foreign = await registerNode(
      { c: world.as(world.seller), send: world.send },
      bigNode,
      world.outsider.address,
    );
    const leaseId = await bookNow(world, await listNow(world, foreign), 1);
    const mine = await bookNow(world, await listNow(world, world.nodes.big), 1);

    await waitForPhase(store, mine, "running");
    expect(store.lease(leaseId)).toBeUndefined();
    expect(store.handledEvents().map((e) => e.leaseId)).toEqual([mine]);
  });
});

describe("the provider agent's start-up check of node addresses", () => {
  it("logs an error naming a node without an address whose BMC reports no IPv4", async () => {
    const world = await openWorld();
    const fleet = await startFleet(2, { behaviour: { powerTransitionMs: 15, reportsHostIpv4: false } });
    const store = await AgentStore.open(":memory:");
    const errors: { message: string; fields: LogFields | undefined }[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message, fields) => errors.push({ message, fields }),
    };
    const agent = new ProviderAgent({
      provider: world.connection.ethers.provider,
      deployment: world.deployment,
      contracts: attach(world.deployment, new ManagedSigner(world.agent)),
      store,
      // The small node has its address configured: nothing to learn, nothing to say.
      nodes: [
        operated(world.nodes.big, fleet.bmc(0)),
        { ...operated(world.nodes.small, fleet.bmc(1)), address: "203.0.113.9" },
      ],
      logger,
      options: FAST_AGENT,
    });
    try {
      await agent.start();
      await waitFor("the address check", () => errors.length > 0);
      expect(errors).toEqual([
        {
          message: expect.stringMatching(/no configured address and its BMC reports no IPv4/),
          fields: expect.objectContaining({
            nodeId: world.nodes.big,
            reason: expect.stringMatching(/no IPv4 address on/),
            fix: `set "address" for node ${world.nodes.big} in the agent's configuration`,
          }),
        },
      ]);
      // The node with a configured address is not asked.
      expect(fleet.bmc(1).requests).toEqual([]);
    } finally {
      await agent.stop();
      store.close();
      await fleet.close();
      await world.connection.close();
    }
  });
});

describe("the provider agent, when a report's transaction is mined but fails", () => {
  /** Enough for any report's calldata, far too little to run it: mined, it runs out of gas. */
  const STARVED_GAS = 32_000n;
  let world: World;
  let fleet: BmcFleet;
  let agent: ProviderAgent;
  let store: AgentStore;
  let signer: MeddlingSigner;

  /** An agent whose first `report` transaction is meddled with; the chain mines failed sends, as a node does. */
  async function open(
    report: "reportProvisioned" | "settle" | "reportFailed",
    meddle: (tx: TransactionRequest) => Promise<TransactionRequest> = async (tx) => ({ ...tx, gasLimit: STARVED_GAS }),
  ): Promise<void> {
    world = await openWorld({ throwOnTransactionFailures: false });
    fleet = await startFleet(1);
    signer = new MeddlingSigner(world.agent, world.c.leases.interface.getFunction(report).selector, meddle);
    ({ agent, store } = await startAgent(world, [operated(world.nodes.small, fleet.bmc(0))], {}, signer));
  }

  afterEach(async () => {
    await agent.stop();
    store.close();
    await fleet.close();
    await world.connection.close();
  });

  const leaseOf = (leaseId: number) => world.c.leases.leaseOf(leaseId);
  /** The meddled transaction was mined and failed for want of gas: not refused before it was sent. */
  const expectStarved = async () => {
    const receipt = await world.connection.ethers.provider.getTransactionReceipt(signer.meddled ?? "");
    expect(receipt?.status).toBe(0);
    expect(receipt?.gasUsed).toBe(STARVED_GAS);
  };

  it("sends reportProvisioned again after it ran out of gas, and the lease runs", async () => {
    await open("reportProvisioned");
    const leaseId = await bookNow(world, await listNow(world, world.nodes.small), 2);

    await waitForPhase(store, leaseId, "running");
    await expectStarved();
    expect((await leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));
  });

  it("settles a lease at its end after the settle ran out of gas, and cleans the node", async () => {
    await open("settle");
    const leaseId = await bookNow(world, await listNow(world, world.nodes.small), 1);
    await waitForPhase(store, leaseId, "running");
    await world.connection.networkHelpers.time.increase(120);

    await waitForPhase(store, leaseId, "done");
    await expectStarved();
    const lease = await leaseOf(leaseId);
    expect([lease.status, lease.endReason]).toEqual([BigInt(LeaseStatus.Cleaned), BigInt(EndReason.Expired)]);
  });

  it("reports a failed lease again after the report ran out of gas, refunding the buyer", async () => {
    await open("reportFailed");
    fleet.bmc(0).faults = { failAll: true };
    const leaseId = await bookNow(world, await listNow(world, world.nodes.small), 1);

    await waitFor("the failure on-chain", async () => (await leaseOf(leaseId)).status === BigInt(LeaseStatus.Ended));
    await expectStarved();
    expect((await leaseOf(leaseId)).endReason).toBe(BigInt(EndReason.Failed));
    fleet.bmc(0).faults = {};
    await waitForPhase(store, leaseId, "done");
    expect((await leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Cleaned));
  });

  it("closes a lease someone else settled between its check and its send, instead of holding the node", async () => {
    await open("settle", async (tx) => {
      // A keeper's settle lands first; the agent's own is mined after it and refused.
      const [leaseId] = world.c.leases.interface.decodeFunctionData("settle", String(tx.data));
      await world.send(world.as(world.outsider).leases.settle(Number(leaseId)));
      return tx;
    });
    const leaseId = await bookNow(world, await listNow(world, world.nodes.small), 1);
    await waitForPhase(store, leaseId, "running");
    await world.connection.networkHelpers.time.increase(120);

    await waitForPhase(store, leaseId, "done");
    const receipt = await world.connection.ethers.provider.getTransactionReceipt(signer.meddled ?? "");
    expect(receipt?.status).toBe(0);
    expect((await leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Cleaned));
    expect((await world.c.nodes.node(world.nodes.small)).status).toBe(BigInt(NodeStatus.Available));
  });
});
