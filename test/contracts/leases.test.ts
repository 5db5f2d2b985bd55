import { beforeEach, describe, expect, it } from "vitest";

import {
  leaseImage,
  cancellationFee,
  leaseCost,
  parseCredits,
  PriceModel,
  LeaseStatus,
  EndReason,
  NodeStatus,
} from "../../sdk/index.js";
import { expectRevert } from "../helpers/revert.js";
import {
  HOUR,
  STARTING_CREDITS,
  createOffer,
  offerTerms,
  names,
  only,
  openWorld,
  type World,
  fieldsOf,
} from "../helpers/world.js";

const PRICE = parseCredits("3.6"); // 1,000 base units a second
const SLICES = 4;
const GRACE = 900;

describe("Leases", () => {
  let w: World;
  let offerId: number;
  let leaseId: bigint;
  let start: number;
  const cost = leaseCost(PRICE, SLICES * HOUR);

  beforeEach(async () => {
    w = await openWorld();
    start = w.nextHour;
    offerId = await createOffer({ c: w.as(w.seller), send: w.send }, offerTerms(start, { pricePerHour: PRICE }));
    leaseId = await bookFor(w.buyer, start, SLICES);
  });

  async function bookFor(buyer: World["buyer"], at: number, slices: number, replaces = 0n): Promise<bigint> {
    const events = await w.send(
      w.as(buyer).offers.bookInstant(offerId, at, slices, PRICE, replaces, "https://img/os.iso"),
    );
    return only(events, "LeaseCreated").args.leaseId;
  }
  const agent = () => w.as(w.agent).leases;
  const at = (t: number) => w.connection.networkHelpers.time.setNextBlockTimestamp(t);
  const account = async (who: string) => {
    const [available, escrowed] = await w.c.market.accountOf(who);
    return { available, escrowed };
  };
  const provision = async (when: number) => {
    await at(when);
    return w.send(agent().reportProvisioned(leaseId, "10.0.0.7"));
  };

  it("records every term of a new lease, pending until provisioned", async () => {
    const lease = await w.c.leases.leaseOf(leaseId);
    expect(fieldsOf(lease)).toEqual({
      buyer: w.buyer.address,
      nodeId: BigInt(w.nodes.big),
      start: BigInt(start),
      end: BigInt(start + SLICES * HOUR),
      cost,
      offerId: BigInt(offerId),
      sliceSeconds: BigInt(HOUR),
      status: BigInt(LeaseStatus.Pending),
      endReason: 0n,
      provisionedAt: 0n,
      endedAt: 0n,
    });
    expect(await w.c.leases.leaseCount()).toBe(leaseId);
  });

  describe("agent reports", () => {
    it("takes the provisioned report, with the node's address, from the node's agent only", async () => {
      await expectRevert(w.as(w.seller).leases.reportProvisioned(leaseId, "10.0.0.7"), "UnauthorizedCaller");
      const events = await provision(start + 60);
      expect(only(events, "LeaseProvisioned").args).toMatchObject({
        leaseId,
        agent: w.agent.address,
        nodeAddress: "10.0.0.7",
      });
      const lease = await w.c.leases.leaseOf(leaseId);
      expect([lease.status, lease.provisionedAt]).toEqual([BigInt(LeaseStatus.Active), BigInt(start + 60)]);
      expect((await w.c.leases.detailsOf(leaseId)).nodeAddress).toBe("10.0.0.7");
      await expectRevert(agent().reportProvisioned(leaseId, "10.0.0.8"), "InvalidLeaseStatus");
    });

    it("anchors usage record hashes once the lease runs", async () => {
      const record = `0x${"ab".repeat(32)}`;
      await expectRevert(agent().reportUsage(leaseId, record, start), "InvalidLeaseStatus");
      await provision(start);
      const reported = only(await w.send(agent().reportUsage(leaseId, record, start + 600)), "LeaseUsageReported");
      expect(reported.args).toMatchObject({ recordHash: record, meteredUntil: BigInt(start + 600) });
      expect((await w.c.leases.detailsOf(leaseId)).usageRecord).toBe(record);
      await expectRevert(w.as(w.buyer).leases.reportUsage(leaseId, record, start), "UnauthorizedCaller");
    });

    it("refunds everything when provisioning fails", async () => {
      await at(start + 120);
      const events = await w.send(agent().reportFailed(leaseId, "BMC unreachable"));
      expect(only(events, "LeaseFailed").args.reason).toBe("BMC unreachable");
      expect(only(events, "LeaseEnded").args).toMatchObject({
        reason: BigInt(EndReason.Failed),
        paid: 0n,
        refund: cost,
      });
      expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS, escrowed: 0n });
      expect(await w.c.offers.isFree(w.nodes.big, start + 120, start + SLICES * HOUR)).toBe(true);
    });

    it("pays only the seconds delivered when a running node fails", async () => {
      await provision(start);
      await at(start + 1800);
      const ended = only(await w.send(agent().reportFailed(leaseId, "disk")), "LeaseEnded");
      expect(ended.args.paid).toBe(leaseCost(PRICE, 1800));
    });

    it("takes the cleaned report only after the lease ended", async () => {
      await expectRevert(agent().reportCleaned(leaseId), "InvalidLeaseStatus", {
        status: BigInt(LeaseStatus.Pending),
      });
      await w.send(agent().reportFailed(leaseId, "no power"));
      const cleaned = only(await w.send(agent().reportCleaned(leaseId)), "LeaseCleaned");
      expect(cleaned.args.agent).toBe(w.agent.address);
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Cleaned));
    });

    it("freezes the usage record once the node is reported wiped", async () => {
      await provision(start);
      await at(start + 600);
      await w.send(w.as(w.buyer).leases.release(leaseId));
      await w.send(agent().reportUsage(leaseId, `0x${"11".repeat(32)}`, start + 600));
      await w.send(agent().reportCleaned(leaseId));
      await expectRevert(agent().reportUsage(leaseId, `0x${"22".repeat(32)}`, start + 700), "InvalidLeaseStatus", {
        status: BigInt(LeaseStatus.Cleaned),
      });
      expect((await w.c.leases.detailsOf(leaseId)).usageRecord).toBe(`0x${"11".repeat(32)}`);
    });

    it("provisions no lease on a node until the one it ran before is reported wiped", async () => {
      await provision(start);
      await at(start + 600);
      await w.send(w.as(w.buyer).leases.release(leaseId));
      const next = await bookFor(w.rival, start + HOUR, 1);
      await at(start + HOUR);
      await expectRevert(agent().reportProvisioned(next, "10.0.0.8"), "NodeNotWiped", {
        nodeId: BigInt(w.nodes.big),
        previous: leaseId,
      });
      expect(await w.c.leases.unwipedLeaseOf(w.nodes.big)).toBe(leaseId);
      await w.send(agent().reportCleaned(leaseId));
      expect(await w.c.leases.unwipedLeaseOf(w.nodes.big)).toBe(0n);
      await w.send(agent().reportProvisioned(next, "10.0.0.8"));

      // A lease its agent failed may have booted the buyer's image: it too is wiped before the next.
      await w.send(agent().reportFailed(next, "disk"));
      expect(await w.c.leases.unwipedLeaseOf(w.nodes.big)).toBe(next);
    });

    it("lets only the node's agent hold the node for its operator, into maintenance", async () => {
      await expectRevert(w.as(w.seller).nodes.holdForOperator(w.nodes.big, "wipe failed"), "NotNodeManager");
      const events = await w.send(w.as(w.agent).nodes.holdForOperator(w.nodes.big, "wipe failed"));
      expect(only(events, "NodeHeldForOperator").args).toMatchObject({
        nodeId: BigInt(w.nodes.big),
        agent: w.agent.address,
        reason: "wipe failed",
      });
      expect(only(events, "NodeStatusChanged").args.status).toBe(BigInt(NodeStatus.Maintenance));
      expect((await w.c.nodes.node(w.nodes.big)).status).toBe(BigInt(NodeStatus.Maintenance));
      // Held again, it stays in maintenance and the operator is told again.
      const again = await w.send(w.as(w.agent).nodes.holdForOperator(w.nodes.big, "still not wiped"));
      expect(again.map((e) => e.name)).toEqual(["NodeHeldForOperator"]);
    });
  });

  describe("settlement", () => {
    it("pays the seller for the time delivered, from provisioning to the end", async () => {
      await provision(start + 360);
      await expectRevert(w.c.leases.settle(leaseId), "NotDue", { at: BigInt(start + SLICES * HOUR) });
      await w.connection.networkHelpers.time.increaseTo(start + SLICES * HOUR);
      const ended = only(await w.send(w.as(w.outsider).leases.settle(leaseId)), "LeaseEnded");
      const paid = leaseCost(PRICE, SLICES * HOUR - 360);
      expect(ended.args).toMatchObject({
        reason: BigInt(EndReason.Expired),
        paid,
        refund: cost - paid,
        by: w.outsider.address,
      });
      expect(await account(w.seller.address)).toEqual({ available: paid, escrowed: 0n });
      expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS - paid, escrowed: 0n });
      await expectRevert(w.c.leases.settle(leaseId), "InvalidLeaseStatus");
    });

    it("lets the buyer release early, paying up to the end of the slice under way", async () => {
      await provision(start);
      await w.connection.networkHelpers.time.increaseTo(start + HOUR + 5);
      const preview = await w.c.leases.previewEnd(leaseId, EndReason.Released);
      await expectRevert(w.as(w.rival).leases.release(leaseId), "UnauthorizedCaller");
      await at(start + HOUR + 10);
      const ended = only(await w.send(w.as(w.buyer).leases.release(leaseId)), "LeaseEnded");
      const paid = leaseCost(PRICE, 2 * HOUR);
      expect(ended.args).toMatchObject({ reason: BigInt(EndReason.Released), paid, refund: cost - paid });
      expect([preview.paid, preview.refund]).toEqual([paid, cost - paid]);
      expect(await w.c.offers.isFree(w.nodes.big, start + 2 * HOUR, start + SLICES * HOUR)).toBe(true);
      expect(await w.c.offers.isFree(w.nodes.big, start + HOUR, start + 2 * HOUR)).toBe(false);
      await bookFor(w.rival, start + 2 * HOUR, 2);
    });

    it("refunds all but the cancellation fee when released before the start: the fee to the treasury", async () => {
      const fee = cancellationFee(cost, BigInt(await w.c.leases.cancellationBps()));
      expect(fee).toBe(cost / 10n);
      const [treasuryBefore] = await w.c.market.accountOf(w.treasury.address);
      const events = await w.send(w.as(w.buyer).leases.release(leaseId));
      const ended = only(events, "LeaseEnded");
      expect([ended.args.paid, ended.args.refund]).toEqual([0n, cost]);
      // Not to the seller: a shill of the seller's own tenant would pay it to itself.
      expect(only(events, "CancellationFeePaid").args).toMatchObject({
        payer: w.buyer.address,
        payee: w.treasury.address,
        fee,
      });
      expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS - fee, escrowed: 0n });
      expect((await w.c.market.accountOf(w.treasury.address))[0]).toBe(treasuryBefore + fee);
    });

    it("charges the owner who preempts a lease well before its start: the buyer gets its cost and the fee", async () => {
      const fee = cost / 10n;
      await w.send(w.c.credits.grant(w.seller.address, fee, "float"));
      await w.send(w.as(w.seller).credits["transferAndCall(address,uint256)"](w.deployment.contracts.market, fee));
      const events = await w.send(w.as(w.seller).leases.preempt(leaseId));
      expect(only(events, "LeaseEnded").args).toMatchObject({ reason: BigInt(EndReason.Preempted), refund: cost });
      expect(only(events, "CancellationFeePaid").args).toMatchObject({
        payer: w.seller.address,
        payee: w.buyer.address,
        fee,
      });
      expect(await account(w.buyer.address)).toEqual({ available: STARTING_CREDITS + fee, escrowed: 0n });
    });

    it("refuses the preemption of a lease not yet started by an owner who cannot pay the fee", async () => {
      await expectRevert(w.as(w.seller).leases.preempt(leaseId), "InsufficientCredits", { account: w.seller.address });
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Pending));
    });

    it("lets the node's owner preempt with notice: the lease runs on for it, and the buyer pays only the time it ran", async () => {
      await provision(start);
      await expectRevert(w.as(w.buyer).leases.preempt(leaseId), "UnauthorizedCaller");
      await at(start + 1000);
      const notice = Number(await w.c.leases.preemptionNotice());
      expect(notice).toBe(120);
      const noticed = only(await w.send(w.as(w.seller).leases.preempt(leaseId)), "LeasePreempted");
      expect(noticed.args).toMatchObject({ endsAt: BigInt(start + 1000 + notice), by: w.seller.address });
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));
      await expectRevert(w.as(w.seller).leases.preempt(leaseId), "AlreadyPreempted");
      await expectRevert(w.c.leases.settle(leaseId), "NotDue");
      await at(start + 1000 + notice + 30);
      const ended = only(await w.send(w.as(w.outsider).leases.settle(leaseId)), "LeaseEnded");
      expect(ended.args).toMatchObject({ reason: BigInt(EndReason.Preempted), paid: leaseCost(PRICE, 1000 + notice) });
      expect(await w.c.offers.isFree(w.nodes.big, start + 1140, start + SLICES * HOUR)).toBe(true);
    });

    it("refuses a preemption within the notice of the lease's end: it ends by then anyway", async () => {
      await provision(start);
      await at(start + SLICES * HOUR - 60);
      await expectRevert(w.as(w.seller).leases.preempt(leaseId), "EndsWithinNotice");
    });

    it("lets anyone claim the full refund when the agent never reports in time", async () => {
      await w.connection.networkHelpers.time.increaseTo(start + GRACE - 2);
      await expectRevert(w.c.leases.settle(leaseId), "NotDue", { at: BigInt(start + GRACE) });
      await at(start + GRACE);
      const ended = only(await w.send(w.as(w.outsider).leases.settle(leaseId)), "LeaseEnded");
      expect(ended.args).toMatchObject({ reason: BigInt(EndReason.TimedOut), paid: 0n, refund: cost });
      await expectRevert(agent().reportProvisioned(leaseId, "late"), "InvalidLeaseStatus");
    });

    it("does not release or preempt a lease past its end: that is settlement", async () => {
      await provision(start);
      await w.connection.networkHelpers.time.increaseTo(start + SLICES * HOUR);
      await expectRevert(w.as(w.buyer).leases.release(leaseId), "LeaseOver");
      await expectRevert(w.as(w.seller).leases.preempt(leaseId), "LeaseOver");
      await expectRevert(agent().reportFailed(leaseId, "late"), "LeaseOver");
      await expectRevert(agent().reportProvisioned(leaseId, "late"), "InvalidLeaseStatus");
    });

    it("still settles the leases of deleted tenants", async () => {
      await provision(start);
      await w.send(w.c.market.deleteTenant(w.tenants.buyers));
      await w.send(w.c.market.deleteTenant(w.tenants.provider));
      await w.connection.networkHelpers.time.increaseTo(start + SLICES * HOUR);
      const ended = only(await w.send(w.c.leases.settle(leaseId)), "LeaseEnded");
      expect(ended.args.paid).toBe(cost);
      expect((await account(w.seller.address)).available).toBe(cost);
    });

    it("lowers a dynamic price again when booked slices come back", async () => {
      const dynamic = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(start, {
          nodeId: w.nodes.small,
          model: PriceModel.Dynamic,
          surgeBps: 10_000,
          end: start + 8 * HOUR,
        }),
      );
      const base = await w.c.offers.postedPrice(dynamic);
      const events = await w.send(w.as(w.buyer).offers.bookInstant(dynamic, start, 4, 2n * base, 0, ""));
      expect(await w.c.offers.postedPrice(dynamic)).toBe(base + base / 2n);
      await w.send(w.as(w.buyer).leases.release(only(events, "LeaseCreated").args.leaseId));
      expect(await w.c.offers.postedPrice(dynamic)).toBe(base);
    });
  });

  describe("the buyer's image", () => {
    it("can be changed by the buyer until the node is provisioned", async () => {
      await expectRevert(w.as(w.rival).leases.setImage(leaseId, "https://img/other.iso"), "UnauthorizedCaller");
      const set = only(await w.send(w.as(w.buyer).leases.setImage(leaseId, "https://img/debian.iso")), "LeaseImageSet");
      expect(set.args.image).toBe("https://img/debian.iso");
      expect(await leaseImage(w.c, Number(leaseId), w.deployment.blockNumber)).toBe("https://img/debian.iso");
      await provision(start);
      await expectRevert(w.as(w.buyer).leases.setImage(leaseId, "https://img/x.iso"), "InvalidLeaseStatus");
      await expectRevert(w.c.leases.leaseOf(99), "UnknownLease");
    });
  });

  describe("moving to a new node", () => {
    /** Books `slices` hours on the small node from `from`, replacing `replaces`. */
    const bookElsewhere = async (from: number, slices: number, replaces: bigint) => {
      const other = await createOffer(
        { c: w.as(w.seller), send: w.send },
        offerTerms(start, { nodeId: w.nodes.small, pricePerHour: PRICE, end: start + 48 * HOUR }),
      );
      const events = await w.send(
        w.as(w.buyer).offers.bookInstant(other, from, slices, PRICE, replaces, "https://img/os.iso"),
      );
      return only(events, "LeaseCreated").args.leaseId;
    };

    it("releases the old lease only once the new one is provisioned", async () => {
      await provision(start);
      const newLease = await bookElsewhere(start + SLICES * HOUR - 3600, 2, leaseId);
      expect((await w.c.leases.detailsOf(newLease)).replacesLease).toBe(leaseId);
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));

      await at(start + SLICES * HOUR - 1200);
      const events = await w.send(agent().reportProvisioned(newLease, "10.0.0.9"));
      const ended = only(events, "LeaseEnded");
      expect(ended.args).toMatchObject({ leaseId, reason: BigInt(EndReason.Released) });
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Ended));
    });

    it("prepared ahead, keeps the old lease running until the new one starts, then anyone releases it", async () => {
      await provision(start);
      const newStart = start + (SLICES - 1) * HOUR;
      const newLease = await bookElsewhere(newStart, 2, leaseId);
      await at(newStart - 1200);
      const early = await w.send(agent().reportProvisioned(newLease, "10.0.0.9"));
      expect(names(early)).not.toContain("LeaseEnded");
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));
      await expectRevert(w.c.leases.settle(leaseId), "NotDue");
      await at(newStart);
      const ended = only(await w.send(w.as(w.rival).leases.settle(leaseId)), "LeaseEnded");
      expect(ended.args).toMatchObject({ leaseId, reason: BigInt(EndReason.Released) });
    });

    it("keeps the old lease when the new one's owner reports it early and then preempts it before its start", async () => {
      await provision(start);
      const newStart = start + (SLICES - 1) * HOUR;
      const newLease = await bookElsewhere(newStart, 2, leaseId);
      await at(newStart - 1200);
      await w.send(agent().reportProvisioned(newLease, "10.0.0.9"));
      // Backing out costs the owner the cancellation fee, paid to the buyer.
      await w.send(w.c.credits.grant(w.seller.address, PRICE, "float"));
      await w.send(w.as(w.seller).credits["transferAndCall(address,uint256)"](w.deployment.contracts.market, PRICE));
      await w.send(w.as(w.seller).leases.preempt(newLease));
      await at(newStart + 60);
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));
      await expectRevert(w.c.leases.settle(leaseId), "NotDue");
    });

    it("keeps the old lease when the new one fails", async () => {
      await provision(start);
      const newLease = await bookElsewhere(start + SLICES * HOUR, 2, leaseId);
      await w.send(agent().reportFailed(newLease, "no image"));
      expect((await w.c.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Active));
    });
  });
});
