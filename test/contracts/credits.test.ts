import { beforeEach, describe, expect, it } from "vitest";

import { parseCredits, CreditRequestStatus } from "../../sdk/index.js";
import { expectRevert } from "../helpers/revert.js";
import { STARTING_CREDITS, only, openWorld, type World } from "../helpers/world.js";

describe("Credits", () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
  });

  it("has six decimals and a name", async () => {
    expect(await w.c.credits.decimals()).toBe(6n);
    expect(await w.c.credits.symbol()).toBe("MMC");
  });

  it("lets a credit admin grant and take credits, with a memo for the audit trail", async () => {
    const amount = parseCredits("25");
    const granted = only(await w.send(w.c.credits.grant(w.outsider.address, amount, "pilot")), "CreditsGranted");
    expect(granted.args).toMatchObject({ to: w.outsider.address, amount, by: w.admin.address, memo: "pilot" });
    const taken = only(
      await w.send(w.c.credits.take(w.outsider.address, parseCredits("5"), "correction")),
      "CreditsTaken",
    );
    expect(taken.args.amount).toBe(parseCredits("5"));
    expect(await w.c.credits.balanceOf(w.outsider.address)).toBe(parseCredits("20"));
  });

  it("refuses grants and takes from anyone but a credit admin, and zero amounts", async () => {
    await expectRevert(w.as(w.buyer).credits.grant(w.buyer.address, 1n, "me"), "AccessControlUnauthorizedAccount");
    await expectRevert(w.as(w.buyer).credits.take(w.rival.address, 1n, "you"), "AccessControlUnauthorizedAccount");
    await expectRevert(w.c.credits.grant(w.buyer.address, 0n, ""), "InvalidAmount");
    await expectRevert(w.c.credits.take(w.outsider.address, 1n, ""), "ERC20InsufficientBalance");
  });

  it("takes a member's request, and mints it when an admin approves", async () => {
    const requested = only(
      await w.send(w.as(w.buyer).credits.requestCredits(parseCredits("100"), "render job")),
      "CreditsRequested",
    );
    expect(requested.args).toMatchObject({
      requester: w.buyer.address,
      amount: parseCredits("100"),
      reason: "render job",
    });
    const requestId = requested.args.requestId;
    expect((await w.c.credits.requestOf(requestId)).status).toBe(BigInt(CreditRequestStatus.Pending));

    const events = await w.send(w.c.credits.approveRequest(requestId));
    expect(only(events, "CreditRequestApproved").args.by).toBe(w.admin.address);
    expect(only(events, "CreditsGranted").args.amount).toBe(parseCredits("100"));
    expect(await w.c.credits.balanceOf(w.buyer.address)).toBe(parseCredits("100"));
    await expectRevert(w.c.credits.approveRequest(requestId), "RequestNotPending", {
      status: BigInt(CreditRequestStatus.Approved),
    });
  });

  it("rejects a request with a reason and mints nothing", async () => {
    const { requestId } = only(await w.send(w.as(w.buyer).credits.requestCredits(7n, "x")), "CreditsRequested").args;
    const rejected = only(await w.send(w.c.credits.rejectRequest(requestId, "budget")), "CreditRequestRejected");
    expect(rejected.args.reason).toBe("budget");
    expect(await w.c.credits.balanceOf(w.buyer.address)).toBe(0n);
    await expectRevert(w.c.credits.rejectRequest(requestId, "again"), "RequestNotPending");
  });

  it("lets only the requester cancel its own pending request", async () => {
    const { requestId } = only(await w.send(w.as(w.buyer).credits.requestCredits(7n, "x")), "CreditsRequested").args;
    await expectRevert(w.as(w.rival).credits.cancelRequest(requestId), "NotRequester");
    await w.send(w.as(w.buyer).credits.cancelRequest(requestId));
    expect((await w.c.credits.requestOf(requestId)).status).toBe(BigInt(CreditRequestStatus.Cancelled));
    await expectRevert(w.c.credits.approveRequest(requestId), "RequestNotPending");
  });

  it("refuses requests from outsiders, of zero, and decisions by non-admins", async () => {
    await expectRevert(w.as(w.outsider).credits.requestCredits(1n, "free money"), "NotActiveMember");
    await expectRevert(w.as(w.buyer).credits.requestCredits(0n, "nothing"), "InvalidAmount");
    const { requestId } = only(await w.send(w.as(w.buyer).credits.requestCredits(7n, "x")), "CreditsRequested").args;
    await expectRevert(w.as(w.buyer).credits.approveRequest(requestId), "AccessControlUnauthorizedAccount");
    await expectRevert(w.c.credits.requestOf(99), "UnknownRequest");
  });

  it("cannot be wired to a second directory", async () => {
    await expectRevert(w.c.credits.connectDirectory(w.deployment.contracts.market), "AlreadyConnected");
  });
});

describe("Market accounts", () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
  });

  it("credits a deposit made with transferAndCall to the sender's market account", async () => {
    const [available, escrowed] = await w.c.market.accountOf(w.buyer.address);
    expect([available, escrowed]).toEqual([STARTING_CREDITS, 0n]);
    expect(await w.c.credits.balanceOf(w.deployment.contracts.market)).toBe(2n * STARTING_CREDITS);
  });

  it("takes a deposit by allowance, and gives it back on withdrawal", async () => {
    const amount = parseCredits("3");
    await w.send(w.c.credits.grant(w.outsider.address, amount, ""));
    await w.send(w.as(w.outsider).credits.approve(w.deployment.contracts.market, amount));
    const deposited = only(await w.send(w.as(w.outsider).market.deposit(amount)), "CreditsDeposited");
    expect(deposited.args).toEqual({ account: w.outsider.address, amount });
    const withdrawn = only(await w.send(w.as(w.outsider).market.withdraw(amount)), "CreditsWithdrawn");
    expect(withdrawn.args.amount).toBe(amount);
    expect(await w.c.credits.balanceOf(w.outsider.address)).toBe(amount);
  });

  it("refuses withdrawing more than is available, and zero amounts", async () => {
    await expectRevert(w.as(w.buyer).market.withdraw(STARTING_CREDITS + 1n), "InsufficientCredits", {
      available: STARTING_CREDITS,
      needed: STARTING_CREDITS + 1n,
    });
    await expectRevert(w.as(w.buyer).market.withdraw(0n), "ZeroAmount");
    await expectRevert(w.as(w.buyer).market.deposit(0n), "ZeroAmount");
  });

  it("accepts the ERC-1363 hook only from the credits token", async () => {
    await expectRevert(
      w.as(w.buyer).market.onTransferReceived(w.buyer.address, w.buyer.address, 1n, "0x"),
      "UnauthorizedCaller",
    );
  });

  it("lets only the offer book escrow and only the lease registry settle", async () => {
    await expectRevert(w.as(w.buyer).market.escrow(w.buyer.address, 1n), "UnauthorizedCaller");
    await expectRevert(w.as(w.buyer).market.settle(w.buyer.address, w.seller.address, 1n, 0n), "UnauthorizedCaller");
  });

  it("lets the admin move the treasury, and is wired once", async () => {
    const changed = only(await w.send(w.c.market.setTreasury(w.outsider.address)), "TreasuryChanged");
    expect(changed.args.treasury).toBe(w.outsider.address);
    await expectRevert(w.as(w.buyer).market.setTreasury(w.buyer.address), "AccessControlUnauthorizedAccount");
    await expectRevert(w.c.market.setTreasury(`0x${"00".repeat(20)}`), "ZeroAddress");
    await expectRevert(
      w.c.market.connectContracts(w.deployment.contracts.offers, w.deployment.contracts.leases),
      "AlreadyConnected",
    );
  });

  it("reads many accounts' balances at once", async () => {
    const [available, escrowed] = await w.c.market.balancesOf([w.buyer.address, w.rival.address, w.outsider.address]);
    expect(available).toEqual([STARTING_CREDITS, STARTING_CREDITS, 0n]);
    expect(escrowed).toEqual([0n, 0n, 0n]);
  });
});
