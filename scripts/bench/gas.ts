/**
 * Gas benchmark: median gas per transaction of the market's main operations, and the cost of
 * clearing per matched bid (lease created included) for 10, 100 and 1,000 revealed bids.
 * Prints a table and writes bench/results/gas.json.
 */
import { mkdir, writeFile } from "node:fs/promises";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { attach, deployMarket, eventsOfReceipt, parseCredits, sealBid, type BidTerms, type MarketContracts } from "../../sdk/index.js";

const HOUR = 3600;
const CALENDAR_UNIT = 60;
const NODES = 10;
/** Every auction offer sells ten one-hour slices, one bid each, so rounds differ only in size. */
const SLICES_PER_OFFER = 10;
const BIDDERS = 8;
const CLEARING_CHUNK = 100;
const ROLE = { BUYER: 2, PROVIDER: 4 } as const;
const AUCTION = 2;
const FIXED = 0;
const NODE = { cores: 32, memoryGiB: 128, storageGB: 2000, networkGbps: 25, gpus: 0, arch: 1 };
const ZERO = `0x${"00".repeat(32)}`;

/** Targets from the issue: what each figure must stay under. */
const TARGETS: Record<string, number> = { commitBid: 60_000, revealBid: 90_000, clearPerMatch_10: 120_000, clearPerMatch_100: 120_000, clearPerMatch_1000: 120_000 };

const { ethers, networkHelpers } = await network.connect();
const signers = await ethers.getSigners();
const [admin, seller, agent] = signers;
const bidders = signers.slice(3, 3 + BIDDERS);
if (admin === undefined || seller === undefined || agent === undefined || bidders.length < BIDDERS) {
  throw new Error("the benchmark network needs more accounts");
}

// Long phases: a thousand commits take a thousand blocks.
const { deployment, contracts: c } = await deployMarket(admin, {
  schedule: { commitSeconds: 4 * HOUR, revealSeconds: 2 * HOUR, penaltyBps: 1000 },
});
const as = (signer: HardhatEthersSigner): MarketContracts => attach(deployment, signer);
const domain = { chainId: deployment.chainId, market: deployment.contracts.market };

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<{ gas: number; events: ReturnType<typeof eventsOfReceipt> }> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("not mined");
  return { gas: Number(receipt.gasUsed), events: eventsOfReceipt(deployment, receipt) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

function eventArg<T>(events: ReturnType<typeof eventsOfReceipt>, name: string, key: string): T {
  const event = events.find((e) => e.name === name);
  if (event === undefined) throw new Error(`no ${name}`);
  return (event.args as Record<string, unknown>)[key] as T;
}

// ------------------------------------------------------------------ the cast
const providerTenant = eventArg<bigint>((await gasOf(c.market.createTenant("Provider"))).events, "TenantCreated", "tenantId");
const buyerTenant = eventArg<bigint>((await gasOf(c.market.createTenant("Buyers"))).events, "TenantCreated", "tenantId");
await gasOf(c.market.addMember(providerTenant, seller.address, ROLE.PROVIDER));
for (const bidder of bidders) {
  await gasOf(c.market.addMember(buyerTenant, bidder.address, ROLE.BUYER));
  await gasOf(c.credits.grant(bidder.address, parseCredits("1000000"), "bench"));
  await gasOf(as(bidder).credits.transferAndCall(deployment.contracts.market, parseCredits("1000000")));
}

const figures: Record<string, number> = {};

const registerGas: number[] = [];
const nodeIds: number[] = [];
for (let i = 0; i < NODES; i += 1) {
  const { gas, events } = await gasOf(as(seller).nodes.registerNode(NODE, CALENDAR_UNIT, agent.address, `rack=B${i}`));
  registerGas.push(gas);
  nodeIds.push(Number(eventArg<bigint>(events, "NodeRegistered", "nodeId")));
}
figures.registerNode = median(registerGas);

const now = await networkHelpers.time.latest();
let windowStart = Math.ceil(now / HOUR) * HOUR + 24 * HOUR;

// ------------------------------------------------------------------ instant booking and leases
const createGas: number[] = [];
const bookGas: number[] = [];
const provisionGas: number[] = [];
const releaseGas: number[] = [];
const leaseIds: bigint[] = [];
for (const nodeId of nodeIds) {
  const terms = { nodeId, start: windowStart, end: windowStart + 24 * HOUR, sliceSeconds: HOUR, minSlices: 1, maxSlices: 4, fromHour: 0, toHour: 0, model: FIXED, pricePerHour: parseCredits("2"), surgeBps: 0, sealedReserve: ZERO };
  const { gas, events } = await gasOf(as(seller).offers.createOffer(terms));
  createGas.push(gas);
  const offerId = eventArg<bigint>(events, "OfferCreated", "offerId");
  const booked = await gasOf(as(bidders[0] as HardhatEthersSigner).offers.bookInstant(offerId, windowStart, 2, parseCredits("2"), 0, "https://img/os.iso"));
  bookGas.push(booked.gas);
  leaseIds.push(eventArg<bigint>(booked.events, "LeaseCreated", "leaseId"));
}
await networkHelpers.time.increaseTo(windowStart);
for (const leaseId of leaseIds) provisionGas.push((await gasOf(as(agent).leases.reportProvisioned(leaseId, "10.0.0.7"))).gas);
await networkHelpers.time.increaseTo(windowStart + HOUR / 2);
for (const leaseId of leaseIds) releaseGas.push((await gasOf(as(bidders[0] as HardhatEthersSigner).leases.release(leaseId))).gas);
figures.createOffer = median(createGas);
figures.bookInstant = median(bookGas);
figures.agentReport = median(provisionGas);
figures.release = median(releaseGas);

// ------------------------------------------------------------------ sealed bids and clearing
const commitGas: number[] = [];
const revealGas: number[] = [];
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

async function auctionRound(bidCount: number): Promise<number> {
  windowStart += 2000 * HOUR;
  const round = Number(await c.market.currentRound());
  const offerIds: bigint[] = [];
  for (let i = 0; i < bidCount / SLICES_PER_OFFER; i += 1) {
    const nodeId = nodeIds[i % NODES] as number;
    const start = windowStart + Math.floor(i / NODES) * SLICES_PER_OFFER * HOUR;
    const terms = { nodeId, start, end: start + SLICES_PER_OFFER * HOUR, sliceSeconds: HOUR, minSlices: 1, maxSlices: 1, fromHour: 0, toHour: 0, model: AUCTION, pricePerHour: parseCredits("1"), surgeBps: 0, sealedReserve: ZERO };
    offerIds.push(eventArg<bigint>((await gasOf(as(seller).offers.createOffer(terms))).events, "OfferCreated", "offerId"));
  }
  const offerStarts = new Map<bigint, number>();
  for (const offerId of offerIds) offerStarts.set(offerId, Number((await c.offers.offerOf(offerId)).start));
  const sealed = [];
  for (let i = 0; i < bidCount; i += 1) {
    const bidder = bidders[i % BIDDERS] as HardhatEthersSigner;
    const offerId = offerIds[Math.floor(i / SLICES_PER_OFFER)] as bigint;
    const terms: BidTerms = {
      roundId: round,
      offerId: Number(offerId),
      profileId: 0,
      start: (offerStarts.get(offerId) as number) + (i % SLICES_PER_OFFER) * HOUR,
      duration: HOUR,
      pricePerHour: parseCredits((1 + random() * 9).toFixed(6)),
      replacesLease: 0,
    };
    const bid = sealBid(domain, bidder.address, terms, parseCredits("20"));
    commitGas.push((await gasOf(as(bidder).market.commitBid(bid.commitment, bid.deposit))).gas);
    sealed.push({ bidder, bid });
  }
  const [revealOpens, revealCloses] = await c.market.revealWindow(round);
  await networkHelpers.time.increaseTo(revealOpens);
  // Hints come from a local copy of the round's price order, as a client would keep it.
  const order: { id: number; price: bigint }[] = [];
  for (const [index, { bidder, bid }] of sealed.entries()) {
    let position = 0;
    while (position < order.length && (order[position] as { price: bigint }).price >= bid.terms.pricePerHour) position += 1;
    const hint = position === 0 ? 0 : (order[position - 1] as { id: number }).id;
    revealGas.push((await gasOf(as(bidder).market.revealBid(bid.terms, bid.salt, hint))).gas);
    order.splice(position, 0, { id: index + 1, price: bid.terms.pricePerHour });
  }
  await networkHelpers.time.increaseTo(revealCloses);
  let clearingGas = 0;
  let matched = 0;
  while (!(await c.market.isRoundCleared(round))) {
    const { gas, events } = await gasOf(c.market.clearRound(round, CLEARING_CHUNK));
    clearingGas += gas;
    matched += events.filter((e) => e.name === "BidMatched").length;
  }
  if (matched !== bidCount) throw new Error(`expected ${bidCount} matches, got ${matched}`);
  return Math.round(clearingGas / matched);
}

for (const bidCount of [10, 100, 1000]) figures[`clearPerMatch_${bidCount}`] = await auctionRound(bidCount);
figures.commitBid = median(commitGas);
figures.revealBid = median(revealGas);

// ------------------------------------------------------------------ report
const order = ["registerNode", "createOffer", "bookInstant", "commitBid", "revealBid", "clearPerMatch_10", "clearPerMatch_100", "clearPerMatch_1000", "release", "agentReport"];
const rows = order.map((key) => {
  const target = TARGETS[key];
  const value = figures[key] as number;
  return { operation: key, gas: value, target: target ?? "", ok: target === undefined ? "" : value <= target ? "yes" : "NO" };
});
const spread = (figures.clearPerMatch_1000 as number) / (figures.clearPerMatch_10 as number);
console.table(rows);
console.log(`clearPerMatch_1000 / clearPerMatch_10 = ${spread.toFixed(3)} (target: within 25%, ${Math.abs(1 - spread) <= 0.25 ? "yes" : "NO"})`);

await mkdir("bench/results", { recursive: true });
await writeFile(
  "bench/results/gas.json",
  `${JSON.stringify({ measuredAt: new Date().toISOString(), unit: "gas used per transaction (median)", ...figures, clearingSpread: Number(spread.toFixed(3)) }, null, 2)}\n`,
);
console.log("wrote bench/results/gas.json");
