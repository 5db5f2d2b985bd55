import type { Signer } from "ethers";
import { z } from "zod";

import {
  Credits__factory,
  Leases__factory,
  Market__factory,
  Nodes__factory,
  Offers__factory,
} from "../typechain-types/index.js";
import { attach, type MarketContracts } from "./contracts.js";
import type { Deployment } from "./deployment.js";
import { addressSchema, basisPointsSchema, parseOrThrow } from "./validation.js";

/** How sealed-bid rounds run: commit phase (also the round spacing), reveal phase, penalty. */
export interface AuctionSchedule {
  /** Start of round 1's commit phase; defaults to the latest block's time, rounded down to a round. */
  genesis?: number;
  commitSeconds: number;
  revealSeconds: number;
  /** Share of an unrevealed bid's deposit kept as penalty, in basis points. */
  penaltyBps: number;
}

export interface DeployOptions {
  /** Operator account; defaults to the deployer. */
  admin?: string;
  /** Account that receives penalties; defaults to the admin. */
  treasury?: string;
  schedule?: Partial<AuctionSchedule>;
  /** Seconds after a lease's start within which its agent must report it provisioned. */
  provisionGraceSeconds?: number;
  /** Seconds between an owner's preemption of a lease and its end. */
  preemptionNoticeSeconds?: number;
  /** What backing out of a lease before its start costs, in basis points of its cost. */
  cancellationBps?: number;
  /** Called before each step, for progress display. */
  onStep?: (step: string) => void;
}

const optionsSchema = z.object({
  admin: addressSchema.optional(),
  treasury: addressSchema.optional(),
  schedule: z
    .object({
      genesis: z.number().int().nonnegative().optional(),
      commitSeconds: z.number().int().positive().optional(),
      revealSeconds: z.number().int().positive().optional(),
      penaltyBps: basisPointsSchema.optional(),
    })
    .optional(),
  provisionGraceSeconds: z.number().int().nonnegative().optional(),
  preemptionNoticeSeconds: z.number().int().nonnegative().optional(),
  cancellationBps: basisPointsSchema.optional(),
});

/** Ten-minute rounds with five minutes to reveal: far longer than any Quorum block time. */
export const DEFAULT_SCHEDULE: Readonly<AuctionSchedule> = { commitSeconds: 600, revealSeconds: 300, penaltyBps: 1000 };
export const DEFAULT_PROVISION_GRACE_SECONDS = 900;
/** Two minutes' notice before a preempted lease ends, as the spot markets of Equinix Metal and AWS give. */
export const DEFAULT_PREEMPTION_NOTICE_SECONDS = 120;
/** Backing out of a lease before its start costs 10% of it, as not revealing a sealed bid does. */
export const DEFAULT_CANCELLATION_BPS = 1000;

const DEFAULT_ADMIN_ROLE = `0x${"00".repeat(32)}`;

/**
 * Deploys and wires the whole market: Credits, Market, Nodes, Leases and Offers. When `admin`
 * differs from the deployer, the deployer hands every admin role over and keeps none.
 */
export async function deployMarket(
  deployer: Signer,
  options: DeployOptions = {},
): Promise<{ deployment: Deployment; contracts: MarketContracts }> {
  parseOrThrow(optionsSchema, options, "invalid deployment options");
  const step = options.onStep ?? (() => undefined);
  const provider = deployer.provider;
  if (provider === null) throw new Error("the deployer needs a provider");
  const deployerAddress = await deployer.getAddress();
  const admin = options.admin ?? deployerAddress;
  const treasury = options.treasury ?? admin;
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("the chain has no latest block");
  const commitSeconds = options.schedule?.commitSeconds ?? DEFAULT_SCHEDULE.commitSeconds;
  const schedule = {
    genesis: options.schedule?.genesis ?? latest.timestamp - (latest.timestamp % commitSeconds),
    commitSeconds,
    revealSeconds: options.schedule?.revealSeconds ?? DEFAULT_SCHEDULE.revealSeconds,
    penaltyBps: options.schedule?.penaltyBps ?? DEFAULT_SCHEDULE.penaltyBps,
  };
  const provisionGraceSeconds = options.provisionGraceSeconds ?? DEFAULT_PROVISION_GRACE_SECONDS;
  const preemptionNoticeSeconds = options.preemptionNoticeSeconds ?? DEFAULT_PREEMPTION_NOTICE_SECONDS;
  const cancellationBps = options.cancellationBps ?? DEFAULT_CANCELLATION_BPS;

  step("Credits");
  const credits = await (await new Credits__factory(deployer).deploy(deployerAddress)).waitForDeployment();
  step("Market");
  const market = await (
    await new Market__factory(deployer).deploy(credits, deployerAddress, treasury, schedule)
  ).waitForDeployment();
  step("Nodes");
  const nodes = await (await new Nodes__factory(deployer).deploy(market)).waitForDeployment();
  step("Leases");
  const leases = await (
    await new Leases__factory(deployer).deploy(market, nodes, {
      provisionGrace: provisionGraceSeconds,
      preemptionNotice: preemptionNoticeSeconds,
      cancellationBps,
    })
  ).waitForDeployment();
  step("Offers");
  const offers = await (await new Offers__factory(deployer).deploy(market, nodes, leases)).waitForDeployment();

  step("wiring");
  await (await market.connectContracts(offers, leases)).wait();
  await (await leases.connectOffers(offers)).wait();
  await (await credits.connectDirectory(market)).wait();

  if (admin.toLowerCase() !== deployerAddress.toLowerCase()) {
    step("handing over to the admin");
    for (const role of [DEFAULT_ADMIN_ROLE, await market.OPERATOR_ROLE()]) {
      await (await market.grantRole(role, admin)).wait();
    }
    for (const role of [DEFAULT_ADMIN_ROLE, await credits.CREDIT_ADMIN_ROLE()]) {
      await (await credits.grantRole(role, admin)).wait();
    }
    await (await market.renounceRole(await market.OPERATOR_ROLE(), deployerAddress)).wait();
    await (await market.renounceRole(DEFAULT_ADMIN_ROLE, deployerAddress)).wait();
    await (await credits.renounceRole(await credits.CREDIT_ADMIN_ROLE(), deployerAddress)).wait();
    await (await credits.renounceRole(DEFAULT_ADMIN_ROLE, deployerAddress)).wait();
  }

  const network = await provider.getNetwork();
  const deployment: Deployment = {
    chainId: Number(network.chainId),
    deployedAt: new Date().toISOString(),
    blockNumber: latest.number,
    admin,
    contracts: {
      credits: await credits.getAddress(),
      market: await market.getAddress(),
      nodes: await nodes.getAddress(),
      offers: await offers.getAddress(),
      leases: await leases.getAddress(),
    },
    schedule,
    provisionGraceSeconds,
    preemptionNoticeSeconds,
    cancellationBps,
  };
  return { deployment, contracts: attach(deployment, deployer) };
}
