/**
 * Gas benchmark: the median gas of each main operation, clearing's cost per matched bid (lease
 * created included) for 10, 100, 1,000 and 10,000 revealed bids, and the most gas any one clearing
 * transaction used (`clearWorstTx`), adversarial rounds included: pool bids whose every try fails
 * at its last calendar word. Clearing is chunked as clients chunk it (`clearingChunk`). Prints a
 * table, checks the targets, and writes bench/results/gas.json.
 *   npm run bench:gas
 */
import { mkdir, writeFile } from "node:fs/promises";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { AbiCoder, keccak256, type ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { PlainSealedBidAuction__factory } from "../../typechain-types/index.js";
import {
  attach,
  clearingChunk,
  deployMarket,
  eventsOfReceipt,
  parseCredits,
  sealBid,
  withDecodedRevert,
  type MarketContracts,
  type MarketEvent,
  MemberRole,
  PriceModel,
} from "../../sdk/index.js";

const HOUR = 3600;
const CALENDAR_UNIT = 60;
const NODES = 10;
const BIDDERS = 8;
/** Provider tenants: a tenant enrols at most MAX_TENANT_OFFERS_PER_ROUND offers in a round. */
const SELLERS = 5;
const CLEARING_CHUNK = 50;
/** Every auction offer sells ten one-hour slices, one bid each, so rounds differ only in size. */
const SLICES_PER_OFFER = 10;
const ROUND_SIZES = [10, 100, 1000, 10_000] as const;
const NODE = { cores: 32, memoryGiB: 128, storageGB: 2000, networkGbps: 25, gpus: 0, arch: 1 };
const NO_SEAL = `0x${"00".repeat(32)}`;
/** What a winning bid names for its lease: a typical image URL, carried by the reveal's event. */
const IMAGE = "https://images.metalmarket.local/ubuntu-24.04-live.iso";

/** What each figure must stay under, from the market issue. */
const TARGETS: Record<string, number> = {
  commitBid: 60_000,
  revealBid: 90_000,
  clearPerMatch_10: 120_000,
  clearPerMatch_100: 120_000,
  clearPerMatch_1000: 120_000,
  clearPerMatch_10000: 120_000,
  clearWorstTx: 2_000_000,
};
const MAX_CLEARING_SPREAD = 0.25;
// Explicit limits: an estimate per transaction (Hardhat's default) runs each one many times over,
// which made a 10,000-bid round take longer than the rest of the benchmark together.
const COMMIT_GAS = { gasLimit: 100_000 };
const REVEAL_GAS = { gasLimit: 300_000 };

// A fixed start: where a booking falls in a node's calendar words (and so its gas) depends on the
// clock, and figures must not depend on when the benchmark runs.
const connection = await network.create({ override: { initialDate: "2026-03-02T08:00:00Z" } });
const { networkHelpers } = connection;
const signers = await connection.ethers.getSigners();
if (signers.length < 2 + BIDDERS + SELLERS) throw new Error("the benchmark network needs more accounts");
const [admin, agent] = signers as [HardhatEthersSigner, HardhatEthersSigner];
const bidders = signers.slice(2, 2 + BIDDERS);
const sellers = signers.slice(2 + BIDDERS, 2 + BIDDERS + SELLERS);
const firstBidder = bidders[0] as HardhatEthersSigner;

// Long phases: ten thousand commits take ten thousand blocks.
const { deployment, contracts: c } = await deployMarket(admin, {
  schedule: { commitSeconds: 12 * HOUR, revealSeconds: 6 * HOUR, penaltyBps: 1000 },
});
const as = (signer: HardhatEthersSigner): MarketContracts => attach(deployment, signer);
const domain = { chainId: deployment.chainId, market: deployment.contracts.market };

async function run(tx: Promise<ContractTransactionResponse>): Promise<{ gas: number; events: MarketEvent[] }> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction not mined");
  return { gas: Number(receipt.gasUsed), events: eventsOfReceipt(deployment, receipt) };
}

function idOf(
  events: MarketEvent[],
  name: "TenantCreated" | "NodeRegistered" | "OfferCreated" | "LeaseCreated",
): bigint {
  for (const event of events) {
    if (event.name === "TenantCreated" && name === event.name) return event.args.tenantId;
    if (event.name === "NodeRegistered" && name === event.name) return event.args.nodeId;
    if (event.name === "OfferCreated" && name === event.name) return event.args.offerId;
    if (event.name === "LeaseCreated" && name === event.name) return event.args.leaseId;
  }
  throw new Error(`no ${name} event`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

/** A seeded generator, so that every run bids the same prices. */
function prices(seed: number): () => bigint {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return parseCredits((1 + (state / 2 ** 31) * 9).toFixed(6));
  };
}

// ------------------------------------------------------------------ the cast
for (const [i, provider] of sellers.entries()) {
  const tenant = idOf((await run(c.market.createTenant(`Provider ${i + 1}`))).events, "TenantCreated");
  await run(c.market.addMember(tenant, provider.address, MemberRole.Provider));
}
const buyerTenant = idOf((await run(c.market.createTenant("Buyers"))).events, "TenantCreated");
for (const bidder of bidders) {
  await run(c.market.addMember(buyerTenant, bidder.address, MemberRole.Buyer));
  await run(c.credits.grant(bidder.address, parseCredits("1000000"), "bench"));
  await run(
    as(bidder).credits["transferAndCall(address,uint256)"](deployment.contracts.market, parseCredits("1000000")),
  );
}

const gas: Record<string, number[]> = {
  registerNode: [],
  createOffer: [],
  bookInstant: [],
  commitBid: [],
  revealBid: [],
  release: [],
  agentReport: [],
};
const figures: Record<string, number> = {};

const nodeIds: bigint[] = [];
/** Each node's provider: the nodes are spread over the provider tenants. */
const owners = new Map<bigint, HardhatEthersSigner>();
for (let i = 0; i < NODES; i += 1) {
  const owner = sellers[i % SELLERS] as HardhatEthersSigner;
  const { gas: used, events } = await run(
    as(owner).nodes.registerNode(NODE, CALENDAR_UNIT, agent.address, `rack=B${i}`),
  );
  gas.registerNode?.push(used);
  const nodeId = idOf(events, "NodeRegistered");
  nodeIds.push(nodeId);
  owners.set(nodeId, owner);
}
const ownerOf = (nodeId: bigint) => owners.get(nodeId) as HardhatEthersSigner;

let windowStart = Math.ceil((await networkHelpers.time.latest()) / HOUR) * HOUR + 24 * HOUR;
function offerTerms(nodeId: bigint, start: number, slices: number, model: number, pricePerHour: bigint) {
  return {
    nodeId,
    start,
    end: start + slices * HOUR,
    sliceSeconds: HOUR,
    minSlices: 1,
    maxSlices: model === PriceModel.Auction ? 1 : 4,
    fromHour: 0,
    toHour: 0,
    model,
    pricePerHour,
    surgeBps: 0,
    sealedReserve: NO_SEAL,
  };
}

// ------------------------------------------------------------------ instant booking and the lease lifecycle
const leaseIds: bigint[] = [];
for (const nodeId of nodeIds) {
  const listed = await run(
    as(ownerOf(nodeId)).offers.createOffer(offerTerms(nodeId, windowStart, 24, PriceModel.Fixed, parseCredits("2"))),
  );
  gas.createOffer?.push(listed.gas);
  const offerId = idOf(listed.events, "OfferCreated");
  const booked = await run(
    as(firstBidder).offers.bookInstant(offerId, windowStart, 2, parseCredits("2"), 0, "https://img/os.iso"),
  );
  gas.bookInstant?.push(booked.gas);
  leaseIds.push(idOf(booked.events, "LeaseCreated"));
}
await networkHelpers.time.increaseTo(windowStart);
for (const leaseId of leaseIds)
  gas.agentReport?.push((await run(as(agent).leases.reportProvisioned(leaseId, "10.0.0.7"))).gas);
await networkHelpers.time.increaseTo(windowStart + HOUR / 2);
for (const leaseId of leaseIds) gas.release?.push((await run(as(firstBidder).leases.release(leaseId))).gas);

// ------------------------------------------------------------------ sealed bids and clearing
const nextPrice = prices(42);

/** Moves the clock to the start of the next round's commit phase, so a whole phase lies ahead. */
async function freshRound(): Promise<number> {
  const next = (await c.market.currentRound()) + 1n;
  const [opensAt] = await c.market.commitWindow(next);
  await networkHelpers.time.increaseTo(opensAt);
  return Number(next);
}

/** Runs one auction round of `bidCount` bids that all win, and returns clearing gas per match. */
async function auctionRound(bidCount: number): Promise<number> {
  windowStart += 2000 * HOUR;
  const round = await freshRound();
  const slots: { offerId: bigint; start: number }[] = [];
  for (let i = 0; i < bidCount / SLICES_PER_OFFER; i += 1) {
    const start = windowStart + Math.floor(i / NODES) * SLICES_PER_OFFER * HOUR;
    const nodeId = nodeIds[i % NODES] as bigint;
    const terms = offerTerms(nodeId, start, SLICES_PER_OFFER, PriceModel.Auction, parseCredits("1"));
    const offerId = idOf((await run(as(ownerOf(nodeId)).offers.createOffer(terms))).events, "OfferCreated");
    for (let slice = 0; slice < SLICES_PER_OFFER; slice += 1) slots.push({ offerId, start: start + slice * HOUR });
  }

  const sealed = [];
  for (const [i, slot] of slots.entries()) {
    const bidder = bidders[i % BIDDERS] as HardhatEthersSigner;
    const terms = {
      roundId: round,
      offerId: Number(slot.offerId),
      profileId: 0,
      start: slot.start,
      duration: HOUR,
      pricePerHour: nextPrice(),
      replacesLease: 0,
    };
    const bid = sealBid(domain, bidder.address, terms, parseCredits("20"));
    gas.commitBid?.push(
      (await run(as(bidder).market.commitBid(bid.commitment, bid.deposit, bid.terms.roundId, COMMIT_GAS))).gas,
    );
    sealed.push({ bidder, bid });
  }

  const [revealOpens, revealCloses] = await c.market.revealWindow(round);
  await networkHelpers.time.increaseTo(revealOpens);
  // Hints come from a local copy of the round's price order, as a bidding client keeps it.
  const order: { id: number; price: bigint }[] = [];
  for (const [index, { bidder, bid }] of sealed.entries()) {
    const position = order.findIndex((entry) => entry.price < bid.terms.pricePerHour);
    const at = position === -1 ? order.length : position;
    const hint = at === 0 ? 0 : (order[at - 1] as { id: number }).id;
    gas.revealBid?.push((await run(as(bidder).market.revealBid(bid.terms, bid.salt, hint, IMAGE, REVEAL_GAS))).gas);
    order.splice(at, 0, { id: index + 1, price: bid.terms.pricePerHour });
  }

  await networkHelpers.time.increaseTo(revealCloses);
  const { gas: clearingGas, matched } = await clear(round);
  if (matched !== bidCount) throw new Error(`expected ${bidCount} matches, got ${matched}`);
  return Math.round(clearingGas / matched);
}

/** The most gas one clearing transaction used, over every round cleared. */
let clearWorstTx = 0;

/** Clears `round` in chunks sized by gas, as clients do; its total gas and matches. */
async function clear(round: number): Promise<{ gas: number; matched: number }> {
  const { gasLimit: blockGasLimit } = (await connection.ethers.provider.getBlock("latest")) ?? { gasLimit: 0n };
  let total = 0;
  let matched = 0;
  // Each chunk starts its search from the size the last one settled on: the round's bids are alike.
  let upTo = CLEARING_CHUNK;
  while (!(await c.market.isRoundCleared(round))) {
    const chunk = await clearingChunk(
      (maxBids) => withDecodedRevert(() => c.market.clearRound.estimateGas(round, maxBids)),
      blockGasLimit,
      upTo,
    );
    upTo = chunk.maxBids;
    const { gas: used, events } = await run(c.market.clearRound(round, chunk.maxBids, { gasLimit: chunk.gasLimit }));
    clearWorstTx = Math.max(clearWorstTx, used);
    total += used;
    matched += events.filter((e) => e.name === "BidMatched").length;
  }
  return { gas: total, matched };
}

/**
 * A round built to cost clearing the most: pool bids for the longest lease an offer takes, on a
 * pool of fresh nodes (every calendar word cold) as long as a bid's tries, all free but for their
 * last hour except the first node, wholly free. The first bid (id 1) starts at the pool's second
 * offer: it reads every word of the other calendars before each fails and then books the first
 * node whole, the most one bid can cost. The bids after it fail on all of them.
 */
async function adversarialRound(): Promise<void> {
  windowStart += 2000 * HOUR;
  const round = await freshRound();
  const tries = Number(await c.offers.MAX_POOL_TRIES());
  const slices = Math.floor((Number(await c.offers.MAX_LEASE_UNITS()) * CALENDAR_UNIT) / HOUR);
  const end = windowStart + slices * HOUR;
  for (let i = 0; i < tries; i += 1) {
    const owner = sellers[i % SELLERS] as HardhatEthersSigner;
    const registered = await run(as(owner).nodes.registerNode(NODE, CALENDAR_UNIT, agent.address, `rack=X${i}`));
    const nodeId = idOf(registered.events, "NodeRegistered");
    owners.set(nodeId, owner);
    const terms = {
      ...offerTerms(nodeId, windowStart, slices, PriceModel.Auction, parseCredits("1")),
      maxSlices: slices,
    };
    await run(as(owner).offers.createOffer(terms));
    if (i === 0) continue;
    // The node's last hour, booked by another tenant's buyer through a fixed offer of its own.
    const lastHour = await run(
      as(owner).offers.createOffer(offerTerms(nodeId, end - HOUR, 1, PriceModel.Fixed, parseCredits("1"))),
    );
    await run(
      as(firstBidder).offers.bookInstant(
        idOf(lastHour.events, "OfferCreated"),
        end - HOUR,
        1,
        parseCredits("1"),
        0,
        "",
      ),
    );
  }
  const sealed = [];
  for (let i = 0; i < CLEARING_CHUNK; i += 1) {
    const bidder = bidders[i % BIDDERS] as HardhatEthersSigner;
    const terms = {
      roundId: round,
      offerId: 0,
      profileId: 4,
      start: windowStart,
      duration: slices * HOUR,
      pricePerHour: parseCredits("2"),
      replacesLease: 0,
    };
    const bid = sealBid(domain, bidder.address, terms, parseCredits("1000"));
    await run(as(bidder).market.commitBid(bid.commitment, bid.deposit, round, COMMIT_GAS));
    sealed.push({ bidder, bid });
  }
  const [revealOpens, revealCloses] = await c.market.revealWindow(round);
  await networkHelpers.time.increaseTo(revealOpens);
  for (const { bidder, bid } of sealed) {
    await run(as(bidder).market.revealBid(bid.terms, bid.salt, 0, IMAGE, REVEAL_GAS));
  }
  await networkHelpers.time.increaseTo(revealCloses);
  await clear(round);
}

const began = Date.now();
const progress = (what: string) => console.log(`${what} (${Math.round((Date.now() - began) / 1000)} s)`);
for (const size of ROUND_SIZES) {
  figures[`clearPerMatch_${size}`] = await auctionRound(size);
  progress(`a round of ${size} bids cleared`);
}
await adversarialRound();
progress("the adversarial round cleared");
figures.clearWorstTx = clearWorstTx;
for (const [operation, samples] of Object.entries(gas)) figures[operation] = median(samples);

// ------------------------------------------------------------------ baseline: a textbook sealed-bid auction
const BASELINE_BIDS = 100;
const plain = await (await new PlainSealedBidAuction__factory(admin).deploy(c.credits)).waitForDeployment();
const baseline: Record<string, number[]> = { commitBid: [], revealBid: [] };
const plainBids = [];
for (const bidder of bidders) await run(c.credits.connect(bidder).approve(plain, parseCredits("1000000")));
for (const bidder of bidders) await run(c.credits.grant(bidder.address, parseCredits("100000"), "baseline"));
for (let i = 0; i < BASELINE_BIDS; i += 1) {
  const bidder = bidders[i % BIDDERS] as HardhatEthersSigner;
  const value = nextPrice();
  const salt = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [i]));
  const blinded = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32"], [value, salt]));
  const committed = await (await plain.connect(bidder).commit(blinded, parseCredits("20"))).wait();
  baseline.commitBid?.push(Number(committed?.gasUsed));
  plainBids.push({ bidder, index: Math.floor(i / BIDDERS), value, salt });
}
for (const { bidder, index, value, salt } of plainBids) {
  const revealed = await (await plain.connect(bidder).reveal(index, value, salt)).wait();
  baseline.revealBid?.push(Number(revealed?.gasUsed));
}
const baselineFigures = Object.fromEntries(Object.entries(baseline).map(([key, samples]) => [key, median(samples)]));

// ------------------------------------------------------------------ report
const order = [
  "registerNode",
  "createOffer",
  "bookInstant",
  "commitBid",
  "revealBid",
  ...ROUND_SIZES.map((size) => `clearPerMatch_${size}`),
  "clearWorstTx",
  "release",
  "agentReport",
];
const spread = (figures.clearPerMatch_10000 as number) / (figures.clearPerMatch_10 as number);
const spreadOk = Math.abs(1 - spread) <= MAX_CLEARING_SPREAD;
console.table(
  order.map((operation) => {
    const target = TARGETS[operation];
    const value = figures[operation] as number;
    return {
      operation,
      gas: value,
      "textbook auction": baselineFigures[operation] ?? "",
      target: target ?? "",
      ok: target === undefined ? "" : value <= target ? "yes" : "NO",
    };
  }),
);
console.log(
  `clearPerMatch_10000 / clearPerMatch_10 = ${spread.toFixed(3)} (within ${MAX_CLEARING_SPREAD * 100}%: ${spreadOk ? "yes" : "NO"})`,
);

await mkdir("bench/results", { recursive: true });
await writeFile(
  "bench/results/gas.json",
  `${JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      unit: "gas used per transaction, median; clearPerMatch_N: clearing gas / matched bids; clearWorstTx: the most one clearing transaction used",
      ...Object.fromEntries(order.map((key) => [key, figures[key]])),
      clearingSpread: Number(spread.toFixed(3)),
      baseline: { contract: "PlainSealedBidAuction (textbook blind auction, ERC-20 deposits)", ...baselineFigures },
    },
    null,
    2,
  )}\n`,
);
console.log("wrote bench/results/gas.json");
const missed = order.filter((key) => TARGETS[key] !== undefined && (figures[key] as number) > (TARGETS[key] as number));
if (missed.length > 0 || !spreadOk) {
  console.error(`targets missed: ${[...missed, ...(spreadOk ? [] : ["clearing spread"])].join(", ")}`);
  process.exitCode = 1;
}
