/**
 * Edge paths: hostile tokens and reentrancy, amounts beyond the accounts' width, invalid
 * deployments, clocks that do not count seconds, and bounded rounds.
 */
import { Interface } from "ethers";
import { network } from "hardhat";
import { beforeEach, describe, expect, it } from "vitest";

import { ReentrantCredits__factory, Market__factory } from "../../typechain-types/index.js";
import { decodeRevertData, deployMarket, MemberRole, parseCredits, PriceModel } from "../../sdk/index.js";
import { expectRevert } from "../helpers/revert.js";
import {
  accounts,
  createOffer,
  createTenant,
  offerTerms,
  openWorld,
  registerNode,
  smallNode,
  type World,
} from "../helpers/world.js";

describe("Hardening", () => {
  describe("with the real credits", () => {
    let w: World;
    beforeEach(async () => {
      w = await openWorld();
    });

    it("refuses a deposit without allowance, and one sent to a contract that cannot take it", async () => {
      await w.send(w.c.credits.grant(w.outsider.address, 10n, ""));
      await expectRevert(w.as(w.outsider).market.deposit(10n), "ERC20InsufficientAllowance");
      await expectRevert(
        w.as(w.outsider).credits["transferAndCall(address,uint256)"](w.deployment.contracts.nodes, 10n),
        "ERC1363InvalidReceiver",
      );
      expect(await w.c.credits.balanceOf(w.outsider.address)).toBe(10n);
    });

    it("refuses a deposit beyond what an account can hold, keeping the credits in the wallet", async () => {
      const tooMuch = 2n ** 96n;
      await w.send(w.c.credits.grant(w.outsider.address, tooMuch, "huge"));
      await expectRevert(
        w.as(w.outsider).credits["transferAndCall(address,uint256)"](w.deployment.contracts.market, tooMuch),
        "SafeCastOverflowedUintDowncast",
      );
      expect(await w.c.credits.balanceOf(w.outsider.address)).toBe(tooMuch);
    });

    it("takes at most MAX_TENANT_OFFERS_PER_ROUND auction offers of one tenant in a round, and others' beside", async () => {
      const limit = Number(await w.c.offers.MAX_TENANT_OFFERS_PER_ROUND());
      const seller = { c: w.as(w.seller), send: w.send };
      // Start with a whole commit phase ahead: each listing takes a block.
      const [nextRoundOpens] = await w.c.market.commitWindow((await w.c.market.currentRound()) + 1n);
      await w.connection.networkHelpers.time.increaseTo(nextRoundOpens);
      for (let i = 0; i < limit; i += 1) {
        await createOffer(seller, offerTerms(w.nextHour + i * 3600, { model: PriceModel.Auction }));
      }
      const round = await w.c.market.currentRound();
      expect(await w.c.offers.offersInRound(round)).toHaveLength(limit);
      const squatter = w.tenants.provider;
      await expectRevert(
        w.as(w.seller).offers.createOffer(offerTerms(w.nextHour, { model: PriceModel.Auction })),
        "RoundFull",
        { roundId: round, tenantId: BigInt(squatter) },
      );
      // The round is not full for anyone else: another provider still lists in it.
      const other = await createTenant({ c: w.c, send: w.send }, "Second Rack Co");
      await w.send(w.c.market.addMember(other, w.outsider.address, MemberRole.Provider));
      const outsider = { c: w.as(w.outsider), send: w.send };
      const node = await registerNode(outsider, smallNode, w.agent.address);
      await createOffer(outsider, offerTerms(w.nextHour, { nodeId: node, model: PriceModel.Auction }));
      expect(await w.c.offers.offersInRound(round)).toHaveLength(limit + 1);
    });
  });

  describe("deployment", () => {
    it("refuses a schedule without phases, with a penalty above 100% or starting in the future", async () => {
      const connection = await network.create();
      const [admin] = await accounts(connection, 1);
      const now = await connection.networkHelpers.time.latest();
      const deploy = (schedule: {
        genesis?: number;
        commitSeconds?: number;
        revealSeconds?: number;
        penaltyBps?: number;
      }) =>
        new Market__factory(admin).deploy(admin.address, admin.address, admin.address, {
          genesis: 0,
          commitSeconds: 600,
          revealSeconds: 300,
          penaltyBps: 0,
          ...schedule,
        });
      await expectRevert(deploy({ commitSeconds: 0 }), "InvalidSchedule");
      await expectRevert(deploy({ revealSeconds: 0 }), "InvalidSchedule");
      await expectRevert(deploy({ penaltyBps: 10_001 }), "InvalidSchedule");
      await expectRevert(deploy({ genesis: now + 3600 }), "InvalidSchedule");
    });

    it("counts commit times for tie-breaks in ticks that span any commit phase in 16 bits", async () => {
      const connection = await network.create();
      const [admin] = await accounts(connection, 1);
      const tick = async (commitSeconds: number) => {
        const market = await new Market__factory(admin).deploy(admin.address, admin.address, admin.address, {
          genesis: 0,
          commitSeconds,
          revealSeconds: 300,
          penaltyBps: 0,
        });
        return Number(await market.sealTick());
      };
      expect(await tick(600)).toBe(1);
      expect(await tick(65_536)).toBe(2);
      expect(await tick(7 * 24 * 3600)).toBe(10);
      expect(await tick(2 ** 32 - 1)).toBe(65_536);
    });

    it("checks its options before sending anything, naming the one at fault", async () => {
      const connection = await network.create();
      const [admin] = await accounts(connection, 1);
      const before = await admin.getNonce();
      await expect(deployMarket(admin, { schedule: { commitSeconds: 0 } })).rejects.toThrow(/commitSeconds/);
      await expect(deployMarket(admin, { schedule: { penaltyBps: 20_000 } })).rejects.toThrow(/penaltyBps/);
      await expect(deployMarket(admin, { treasury: "0x1234" })).rejects.toThrow(/treasury/);
      expect(await admin.getNonce()).toBe(before);
    });

    it("refuses a chain whose clock does not fit 32-bit seconds (a nanosecond clock)", async () => {
      const connection = await network.create();
      const [admin] = await accounts(connection, 1);
      await connection.networkHelpers.time.increaseTo(2n ** 32n + 1n);
      await expectRevert(
        new Market__factory(admin).deploy(admin.address, admin.address, admin.address, {
          genesis: 0,
          commitSeconds: 600,
          revealSeconds: 300,
          penaltyBps: 0,
        }),
        "UnsupportedClock",
      );
    });
  });

  describe("reentrancy", () => {
    it("stops a hostile token from withdrawing twice while it is paid", async () => {
      const connection = await network.create();
      const [admin, member] = await accounts(connection, 2);
      const token = await new ReentrantCredits__factory(admin).deploy();
      const market = await new Market__factory(admin).deploy(token, admin.address, admin.address, {
        genesis: 0,
        commitSeconds: 600,
        revealSeconds: 300,
        penaltyBps: 0,
      });
      const amount = parseCredits("10");
      await (await market.createTenant("Victim")).wait();
      await (await market.addMember(1, member.address, 2)).wait();
      await (await token.mint(member.address, 2n * amount)).wait();
      await (await token.connect(member).approve(market, 2n * amount)).wait();
      await (await market.connect(member).deposit(amount)).wait();

      // While the market pays `amount` out, the token asks the market to pay it again.
      const withdraw = new Interface(["function withdraw(uint256)"]).encodeFunctionData("withdraw", [amount]);
      await (await token.arm(await market.getAddress(), withdraw)).wait();
      await (await market.connect(member).withdraw(amount)).wait();

      expect(decodeRevertData(await token.callbackRevert())?.name).toBe("ReentrancyGuardReentrantCall");
      expect(await token.balanceOf(member.address)).toBe(2n * amount);
      expect(await token.balanceOf(await market.getAddress())).toBe(0n);
      const [available] = await market.accountOf(member.address);
      expect(available).toBe(0n);
    });
  });
});
