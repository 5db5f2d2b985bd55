import { MemberRole, TenantStatus } from "../../sdk/index.js";
import { beforeEach, describe, expect, it } from "vitest";

import { expectRevert } from "../helpers/revert.js";
import { createTenant, only, openWorld, type World } from "../helpers/world.js";

describe("Tenants and members", () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
  });

  it("creates a tenant with a name, active, and counts it", async () => {
    const events = await w.send(w.c.market.createTenant("Edge Compute GmbH"));
    const created = only(events, "TenantCreated");
    expect(created.args).toMatchObject({ name: "Edge Compute GmbH", by: w.admin.address });
    const [name, status, memberCount] = await w.c.market.tenant(created.args.tenantId);
    expect([name, Number(status), Number(memberCount)]).toEqual(["Edge Compute GmbH", TenantStatus.Active, 0]);
    expect(await w.c.market.tenantCount()).toBe(created.args.tenantId);
  });

  it("lets only the operator create, suspend, resume and delete tenants", async () => {
    const market = w.as(w.seller).market;
    const role = await w.c.market.OPERATOR_ROLE();
    await expectRevert(market.createTenant("Rogue"), "AccessControlUnauthorizedAccount", { neededRole: role });
    await expectRevert(market.suspendTenant(w.tenants.buyers), "AccessControlUnauthorizedAccount");
    await expectRevert(market.deleteTenant(w.tenants.buyers), "AccessControlUnauthorizedAccount");
    await expectRevert(w.c.market.createTenant(""), "EmptyName");
  });

  it("suspends a tenant so that its members can start nothing new, and resumes it", async () => {
    await w.send(w.c.market.suspendTenant(w.tenants.buyers));
    expect(await w.c.market.isActiveMember(w.buyer.address, MemberRole.Buyer)).toBe(false);
    await expectRevert(
      w.as(w.buyer).market.commitBid(`0x${"11".repeat(32)}`, 1n, await w.c.market.currentRound()),
      "NotActiveMember",
    );
    await expectRevert(w.c.market.suspendTenant(w.tenants.buyers), "InvalidTenantStatus", {
      status: BigInt(TenantStatus.Suspended),
    });

    const events = await w.send(w.c.market.resumeTenant(w.tenants.buyers));
    expect(only(events, "TenantStatusChanged").args.status).toBe(BigInt(TenantStatus.Active));
    expect(await w.c.market.isActiveMember(w.buyer.address, MemberRole.Buyer)).toBe(true);
  });

  it("deletes a tenant for good, keeping its members' credits", async () => {
    await w.send(w.c.market.deleteTenant(w.tenants.buyers));
    expect(await w.c.market.isActiveTenant(w.tenants.buyers)).toBe(false);
    await expectRevert(w.c.market.resumeTenant(w.tenants.buyers), "InvalidTenantStatus");
    await expectRevert(w.c.market.deleteTenant(w.tenants.buyers), "InvalidTenantStatus");
    await expectRevert(
      w.c.market.addMember(w.tenants.buyers, w.outsider.address, MemberRole.Buyer),
      "InvalidTenantStatus",
    );
    const [available] = await w.c.market.accountOf(w.buyer.address);
    await w.send(w.as(w.buyer).market.withdraw(available));
    expect(await w.c.credits.balanceOf(w.buyer.address)).toBe(available);
  });

  it("rejects unknown tenants", async () => {
    await expectRevert(w.c.market.tenant(99), "UnknownTenant", { tenantId: 99n });
    await expectRevert(w.c.market.suspendTenant(99), "UnknownTenant");
    await expectRevert(w.c.market.addMember(99, w.outsider.address, MemberRole.Buyer), "UnknownTenant");
  });

  it("adds, re-roles and removes members, emitting who did it", async () => {
    const added = only(
      await w.send(w.c.market.addMember(w.tenants.buyers, w.outsider.address, MemberRole.Buyer)),
      "MemberAdded",
    );
    expect(added.args).toMatchObject({ tenantId: BigInt(w.tenants.buyers), account: w.outsider.address, roles: 2n });
    expect(await w.c.market.memberOf(w.outsider.address)).toEqual([BigInt(w.tenants.buyers), 2n]);

    await w.send(w.c.market.setMemberRoles(w.outsider.address, MemberRole.Buyer | MemberRole.Provider));
    expect(await w.c.market.isActiveMember(w.outsider.address, MemberRole.Provider)).toBe(true);

    const removed = only(await w.send(w.c.market.removeMember(w.outsider.address)), "MemberRemoved");
    expect(removed.args.by).toBe(w.admin.address);
    expect(await w.c.market.memberOf(w.outsider.address)).toEqual([0n, 0n]);
    const [, , memberCount] = await w.c.market.tenant(w.tenants.buyers);
    expect(memberCount).toBe(1n);
  });

  it("refuses a member of another tenant, the zero address and roles that do not exist", async () => {
    await expectRevert(w.c.market.addMember(w.tenants.rivals, w.buyer.address, MemberRole.Buyer), "AlreadyMember", {
      tenantId: BigInt(w.tenants.buyers),
    });
    await expectRevert(w.c.market.addMember(w.tenants.rivals, `0x${"00".repeat(20)}`, MemberRole.Buyer), "ZeroAccount");
    await expectRevert(w.c.market.addMember(w.tenants.rivals, w.outsider.address, 0), "InvalidRoles");
    await expectRevert(w.c.market.addMember(w.tenants.rivals, w.outsider.address, 8), "InvalidRoles", { roles: 8n });
    await expectRevert(w.c.market.removeMember(w.outsider.address), "NotMember");
  });

  it("lets a tenant admin manage its own tenant's members, and no other", async () => {
    const sellerMarket = w.as(w.seller).market;
    await w.send(sellerMarket.addMember(w.tenants.provider, w.outsider.address, MemberRole.Provider));
    await w.send(w.as(w.outsider).market.joinTenant(w.tenants.provider));
    expect(await w.c.market.isActiveMember(w.outsider.address, MemberRole.Provider)).toBe(true);
    await expectRevert(sellerMarket.removeMember(w.buyer.address), "NotTenantManager", {
      caller: w.seller.address,
      tenantId: BigInt(w.tenants.buyers),
    });
    await expectRevert(
      w.as(w.buyer).market.addMember(w.tenants.buyers, w.treasury.address, MemberRole.Buyer),
      "NotTenantManager",
    );
  });

  it("stops a suspended tenant's admin from managing members", async () => {
    await w.send(w.c.market.suspendTenant(w.tenants.provider));
    await expectRevert(
      w.as(w.seller).market.addMember(w.tenants.provider, w.outsider.address, MemberRole.Provider),
      "NotTenantManager",
    );
  });

  it("builds the tenant directory from a fresh tenant", async () => {
    const tenantId = await createTenant(w, "Fresh");
    await w.send(w.c.market.addMember(tenantId, w.outsider.address, MemberRole.TenantAdmin));
    await w.send(w.as(w.outsider).market.addMember(tenantId, w.treasury.address, MemberRole.Buyer));
    await w.send(w.as(w.treasury).market.joinTenant(tenantId));
    expect(await w.c.market.memberOf(w.treasury.address)).toEqual([BigInt(tenantId), BigInt(MemberRole.Buyer)]);
  });

  describe("consent", () => {
    it("lets a tenant admin only invite: the account is no member until it accepts, and may accept elsewhere", async () => {
      const invited = only(
        await w.send(w.as(w.seller).market.addMember(w.tenants.provider, w.outsider.address, MemberRole.Provider)),
        "MemberInvited",
      );
      expect(invited.args).toMatchObject({ tenantId: BigInt(w.tenants.provider), by: w.seller.address });
      // Enrolled without its consent, the account could join no other tenant and could not leave.
      expect(await w.c.market.memberOf(w.outsider.address)).toEqual([0n, 0n]);
      await expectRevert(w.as(w.outsider).market.joinTenant(w.tenants.rivals), "NotInvited");
      await w.send(w.c.market.addMember(w.tenants.rivals, w.outsider.address, MemberRole.Buyer));
      await expectRevert(w.as(w.outsider).market.joinTenant(w.tenants.provider), "AlreadyMember");
      expect(await w.c.market.memberOf(w.outsider.address)).toEqual([
        BigInt(w.tenants.rivals),
        BigInt(MemberRole.Buyer),
      ]);
    });

    it("lets a member leave its tenant, keeping its credits, and join another", async () => {
      const [available] = await w.c.market.accountOf(w.buyer.address);
      const left = only(await w.send(w.as(w.buyer).market.leaveTenant()), "MemberRemoved");
      expect(left.args).toMatchObject({ account: w.buyer.address, by: w.buyer.address });
      expect((await w.c.market.accountOf(w.buyer.address))[0]).toBe(available);
      await expectRevert(w.as(w.buyer).market.leaveTenant(), "NotMember");
      await w.send(w.as(w.seller).market.addMember(w.tenants.provider, w.buyer.address, MemberRole.Provider));
      await w.send(w.as(w.buyer).market.joinTenant(w.tenants.provider));
      expect((await w.c.market.memberOf(w.buyer.address))[0]).toBe(BigInt(w.tenants.provider));
    });

    it("takes no invitation into a tenant suspended since", async () => {
      await w.send(w.as(w.seller).market.addMember(w.tenants.provider, w.outsider.address, MemberRole.Provider));
      await w.send(w.c.market.suspendTenant(w.tenants.provider));
      await expectRevert(w.as(w.outsider).market.joinTenant(w.tenants.provider), "InvalidTenantStatus");
    });
  });
});
