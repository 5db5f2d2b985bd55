import { MemberRole, NodeStatus, StandardProfile, Arch } from "../../sdk/index.js";
import { beforeEach, describe, expect, it } from "vitest";

import { expectRevert } from "../helpers/revert.js";
import { bigNode, only, openWorld, smallNode, type World } from "../helpers/world.js";

describe("Nodes", () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
  });

  it("registers a node with its resources, agent, calendar unit and attributes", async () => {
    const gpuNode = { ...bigNode, gpus: 4 };
    const events = await w.send(w.as(w.seller).nodes.registerNode(gpuNode, 300, w.agent.address, "gpu=A100"));
    const registered = only(events, "NodeRegistered");
    expect(registered.args).toMatchObject({
      tenantId: BigInt(w.tenants.provider),
      provider: w.seller.address,
      agent: w.agent.address,
      calendarUnit: 300n,
      attributes: "gpu=A100",
    });
    expect(registered.args.resources).toEqual({
      cores: 32n,
      memoryGiB: 128n,
      storageGB: 2000n,
      networkGbps: 25n,
      gpus: 4n,
      arch: 1n,
    });
    const node = await w.c.nodes.node(registered.args.nodeId);
    expect(node.status).toBe(BigInt(NodeStatus.Available));
    expect(await w.c.nodes.agentOf(registered.args.nodeId)).toBe(w.agent.address);
    expect(await w.c.nodes.attributesOf(registered.args.nodeId)).toBe("gpu=A100");
    expect(await w.c.nodes.nodesOfTenant(w.tenants.provider)).toEqual([1n, 2n, 3n]);
  });

  it("lets only active providers register, with a valid unit, agent and resources", async () => {
    await expectRevert(w.as(w.buyer).nodes.registerNode(bigNode, 60, w.agent.address, ""), "NotActiveMember", {
      roles: BigInt(MemberRole.Provider),
    });
    const sellerNodes = w.as(w.seller).nodes;
    await expectRevert(sellerNodes.registerNode(bigNode, 4, w.agent.address, ""), "InvalidCalendarUnit", {
      calendarUnit: 4n,
    });
    await expectRevert(sellerNodes.registerNode(bigNode, 60, `0x${"00".repeat(20)}`, ""), "ZeroAddress");
    await expectRevert(sellerNodes.registerNode({ ...bigNode, cores: 0 }, 60, w.agent.address, ""), "InvalidResources");
    await w.send(w.c.market.suspendTenant(w.tenants.provider));
    await expectRevert(sellerNodes.registerNode(bigNode, 60, w.agent.address, ""), "NotActiveMember");
  });

  it("moves a node between available and maintenance, and retires it for good", async () => {
    const sellerNodes = w.as(w.seller).nodes;
    const changed = only(await w.send(sellerNodes.setStatus(w.nodes.big, NodeStatus.Maintenance)), "NodeStatusChanged");
    expect(changed.args).toMatchObject({ status: BigInt(NodeStatus.Maintenance), by: w.seller.address });
    await expectRevert(sellerNodes.setStatus(w.nodes.big, NodeStatus.Maintenance), "InvalidStatusChange");
    await expectRevert(sellerNodes.setStatus(w.nodes.big, NodeStatus.None), "InvalidStatusChange");
    await w.send(sellerNodes.setStatus(w.nodes.big, NodeStatus.Retired));
    await expectRevert(sellerNodes.setStatus(w.nodes.big, NodeStatus.Available), "NodeRetired");
    await expectRevert(sellerNodes.setAgent(w.nodes.big, w.outsider.address), "NodeRetired");
  });

  it("lets only the node's tenant's providers and admins manage it", async () => {
    await expectRevert(w.as(w.buyer).nodes.setStatus(w.nodes.big, NodeStatus.Maintenance), "NotNodeManager", {
      caller: w.buyer.address,
      nodeId: BigInt(w.nodes.big),
    });
    await expectRevert(w.as(w.outsider).nodes.setAgent(w.nodes.big, w.outsider.address), "NotNodeManager");
    await expectRevert(w.as(w.buyer).nodes.updateNode(w.nodes.big, bigNode, ""), "NotNodeManager");
    await expectRevert(w.c.nodes.node(42), "UnknownNode");
    expect(await w.c.nodes.canManage(w.nodes.big, w.seller.address)).toBe(true);
    expect(await w.c.nodes.canManage(w.nodes.big, w.buyer.address)).toBe(false);
  });

  it("hands a node to a new agent and updates its resources", async () => {
    const sellerNodes = w.as(w.seller).nodes;
    const agentChanged = only(await w.send(sellerNodes.setAgent(w.nodes.big, w.outsider.address)), "NodeAgentChanged");
    expect(agentChanged.args.agent).toBe(w.outsider.address);
    const updated = only(
      await w.send(sellerNodes.updateNode(w.nodes.big, { ...bigNode, memoryGiB: 256 }, "ram=256")),
      "NodeUpdated",
    );
    expect(updated.args.resources.memoryGiB).toBe(256n);
    expect((await w.c.nodes.node(w.nodes.big)).resources.memoryGiB).toBe(256n);
  });

  it("defines the standard profiles and lets the operator alone add to the catalogue", async () => {
    expect(await w.c.nodes.profileCount()).toBe(4n);
    const [name, needs] = await w.c.nodes.profile(StandardProfile.Small);
    expect(name).toBe("Small");
    expect([needs.cores, needs.memoryGiB]).toEqual([2n, 4n]);
    const defined = only(
      await w.send(w.c.nodes.defineProfile("Arm render", { ...smallNode, cores: 8, arch: Arch.Aarch64 })),
      "ProfileDefined",
    );
    expect(defined.args).toMatchObject({ profileId: 5n, name: "Arm render", by: w.admin.address });
    // Any member defining profiles could use up the 16-bit ids that pool bids name.
    await expectRevert(w.as(w.buyer).nodes.defineProfile("x", smallNode), "NotOperator", { caller: w.buyer.address });
    await expectRevert(w.as(w.outsider).nodes.defineProfile("x", smallNode), "NotOperator");
    await expectRevert(w.c.nodes.defineProfile("", smallNode), "EmptyName");
  });

  it("says whether a node fits a profile, resource by resource and by architecture", async () => {
    expect(await w.c.nodes.fits(w.nodes.big, StandardProfile.Large)).toBe(true);
    expect(await w.c.nodes.fits(w.nodes.small, StandardProfile.Small)).toBe(true);
    expect(await w.c.nodes.fits(w.nodes.small, StandardProfile.Medium)).toBe(false);
    expect(await w.c.nodes.fits(w.nodes.small, 0)).toBe(true);
    expect(await w.c.nodes.fits(w.nodes.small, 77)).toBe(false);
    await w.send(w.c.nodes.defineProfile("Arm", { ...smallNode, arch: Arch.Aarch64 }));
    await w.send(w.c.nodes.defineProfile("GPU", { ...smallNode, gpus: 1 }));
    expect(await w.c.nodes.fits(w.nodes.big, 5)).toBe(false);
    expect(await w.c.nodes.fits(w.nodes.big, 6)).toBe(false);
  });
});
