/**
 * The access and arithmetic findings of the contracts' review (issue 13), each as the deviation
 * that used to pay and now fails: who would have gained, and how the market refuses it.
 */
import { beforeEach, describe, expect, it } from "vitest";

import { MemberRole, NodeStatus, Unfit, parseCredits } from "../../sdk/index.js";
import { expectRevert } from "../helpers/revert.js";
import { createOffer, offerTerms, only, openWorld, registerNode, smallNode, type World } from "../helpers/world.js";

describe("Review findings", () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
  });

  describe("credits", () => {
    it("lets no credit admin burn what the market holds for its members", async () => {
      const held = await w.c.credits.balanceOf(w.deployment.contracts.market);
      expect(held).toBeGreaterThan(0n);
      await expectRevert(w.c.credits.take(w.deployment.contracts.market, 1n, "oops"), "MarketHeld");
      // Every member can still withdraw all it has: the market's balance covers them.
      const [available] = await w.c.market.accountOf(w.buyer.address);
      await w.send(w.as(w.buyer).market.withdraw(available));
      expect(await w.c.credits.balanceOf(w.buyer.address)).toBe(available);
    });

    it("refuses a plain transfer into the market, where the credits would be nobody's", async () => {
      await w.send(w.c.credits.grant(w.outsider.address, 10n, ""));
      await expectRevert(w.as(w.outsider).credits.transfer(w.deployment.contracts.market, 10n), "DepositThroughMarket");
      await w.send(w.as(w.outsider).credits.approve(w.rival.address, 10n));
      await expectRevert(
        w.as(w.rival).credits.transferFrom(w.outsider.address, w.deployment.contracts.market, 10n),
        "DepositThroughMarket",
      );
      expect(await w.c.credits.balanceOf(w.outsider.address)).toBe(10n);
      // A deposit is still one step, and credits the sender's account.
      await w.send(w.as(w.outsider).credits["transferAndCall(address,uint256)"](w.deployment.contracts.market, 4n));
      expect((await w.c.market.accountOf(w.outsider.address))[0]).toBe(4n);
      // Through an allowance too, into the owner's account.
      await w.send(w.as(w.outsider).credits.approve(w.rival.address, 6n));
      await w.send(
        w
          .as(w.rival)
          .credits["transferFromAndCall(address,address,uint256)"](
            w.outsider.address,
            w.deployment.contracts.market,
            6n,
          ),
      );
      expect((await w.c.market.accountOf(w.outsider.address))[0]).toBe(10n);
      expect(await w.c.credits.allowance(w.outsider.address, w.rival.address)).toBe(0n);
    });

    it("grants a request only to a requester who is still a member", async () => {
      const asked = only(await w.send(w.as(w.buyer).credits.requestCredits(100n, "render job")), "CreditsRequested");
      await w.send(w.c.market.removeMember(w.buyer.address));
      await expectRevert(w.c.credits.approveRequest(asked.args.requestId), "NotActiveMember", {
        account: w.buyer.address,
      });
    });
  });

  describe("who manages nodes and offers", () => {
    let fixed: number;
    beforeEach(async () => {
      fixed = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(w.nextHour, { nodeId: w.nodes.small, pricePerHour: parseCredits("1") }),
      );
    });

    it("takes management from a suspended or deleted tenant", async () => {
      await w.send(w.c.market.suspendTenant(w.tenants.provider));
      const seller = w.as(w.seller);
      await expectRevert(seller.nodes.setAgent(w.nodes.small, w.outsider.address), "NotNodeManager");
      await expectRevert(seller.nodes.setStatus(w.nodes.small, NodeStatus.Maintenance), "NotNodeManager");
      await expectRevert(seller.offers.setPrice(fixed, 1n), "NotOfferManager");
      await expectRevert(seller.offers.closeOffer(fixed), "NotOfferManager");
      await w.send(w.c.market.resumeTenant(w.tenants.provider));
      await w.send(seller.offers.setPrice(fixed, 2n));
      await w.send(w.c.market.deleteTenant(w.tenants.provider));
      await expectRevert(seller.offers.closeOffer(fixed), "NotOfferManager");
      expect(await w.c.nodes.canManage(w.nodes.small, w.seller.address)).toBe(false);
    });

    it("takes a seller's offers from it when it leaves its tenant, and sells them no more", async () => {
      await w.send(w.c.market.addMember(w.tenants.provider, w.outsider.address, MemberRole.TenantAdmin));
      await w.send(w.as(w.seller).market.leaveTenant());
      await expectRevert(w.as(w.seller).offers.setPrice(fixed, 1n), "NotOfferManager");
      await expectRevert(w.as(w.seller).offers.closeOffer(fixed), "NotOfferManager");
      // Its revenue would go to an account outside the tenant: the offer takes no booking.
      await expectRevert(
        w.as(w.buyer).offers.bookInstant(fixed, w.nextHour, 1, parseCredits("1"), 0, ""),
        "OfferUnfit",
        { reason: BigInt(Unfit.SellerInactive) },
      );
      // The tenant's admin still manages (and may close) it.
      await w.send(w.as(w.outsider).offers.closeOffer(fixed));
    });
  });

  describe("bookings", () => {
    it("gives a lease booked into a slice already under way its agent's whole grace, from the booking", async () => {
      const grace = Number(await w.c.leases.provisionGrace());
      const sliceSeconds = 4 * grace;
      const start = w.nextHour;
      const offer = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(start, { nodeId: w.nodes.small, sliceSeconds, end: start + 8 * sliceSeconds }),
      );
      const price = await w.c.offers.postedPrice(offer);
      const bookedAt = start + 2 * grace;
      await w.connection.networkHelpers.time.setNextBlockTimestamp(bookedAt);
      const booked = only(
        await w.send(w.as(w.buyer).offers.bookInstant(offer, start, 1, price, 0, "")),
        "LeaseCreated",
      );
      // Counted from the start, the grace had run out: anyone could have voided the lease at once.
      expect(await w.c.leases.provisionDeadline(booked.args.leaseId)).toBe(BigInt(bookedAt + grace));
      await expectRevert(w.as(w.rival).leases.settle(booked.args.leaseId), "NotDue", { at: BigInt(bookedAt + grace) });
      await w.send(w.as(w.agent).leases.reportProvisioned(booked.args.leaseId, "10.0.0.7"));
    });

    it("refuses, with the offer's reason, a booking longer than the offer's window (no 32-bit overflow)", async () => {
      // Slices x sliceSeconds overflowed 32 bits on a node with a long calendar unit (here 12 days).
      const unit = 2 ** 20;
      const node = await registerNode({ c: w.as(w.seller), send: w.send }, smallNode, w.agent.address, unit);
      const start = Math.ceil(w.nextHour / unit) * unit + unit;
      const long = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(start, { nodeId: node, sliceSeconds: unit, maxSlices: 8192, end: start + 2 * unit }),
      );
      const price = await w.c.offers.postedPrice(long);
      await expectRevert(w.as(w.buyer).offers.bookInstant(long, start, 8192, price, 0, ""), "OfferUnfit", {
        reason: BigInt(Unfit.OutsideWindow),
      });
    });
  });
});
