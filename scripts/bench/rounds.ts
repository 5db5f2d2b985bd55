/**
 * Sealed-bid rounds at scale, on a chain like a QBFT network: a block every 2 s, Berlin rules, a
 * 30M block gas limit, the chain and the gateway each a process of its own. Custodial bids from 50
 * buyers, direct and pool, go through the gateway (`POST /bids`); the gateway reveals them in the
 * round's reveal window and clears the round. Rounds grow from 2,000 bids until one misses a bid.
 *
 * Writes bench/results/rounds.json: per round `bids`, `revealed`, `missed`, `matched`,
 * `commitSeconds` (first to last commit), `revealSeconds` (first to last reveal, on the chain's
 * clock), `clearSeconds` (window close to the round cleared), `maxClearTxGas`; and
 * `largestCleanRound`, the largest round with none missed. `BENCH_ROUNDS_SIZES=500,1000` picks the
 * sizes instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Wallet } from "ethers";

import {
  ManagedSigner,
  MemberRole,
  PriceModel,
  attach,
  createProvider,
  deployMarket,
  eventsOfReceipt,
  parseCredits,
  writeDeployment,
} from "../../sdk/index.js";
import { QUORUM_LIKE } from "../lib/local-chain.js";
import { writeGatewaySettings } from "./api/gateway.js";
import { DAY, HOUR, keyOf } from "./api/market.js";

const SIZES = (process.env.BENCH_ROUNDS_SIZES ?? "2000,4000,7000,10000").split(",").map(Number);
const BUYERS = 50;
/** Auction offers per round, each two days of hour slices: pool bids search them all. */
const OFFERS_PER_ROUND = 20;
const POOL_SHARE = 0.3;
/** Bids in flight through the gateway at once. */
const COMMIT_CONCURRENCY = 256;
/** Long enough for 10,000 commits at the chain's pace; the benchmark then moves on to the reveal. */
const COMMIT_SECONDS = 1800;
/** The target: a round's reveals all land within two minutes. */
const REVEAL_SECONDS = 120;
const TARGETS = { bids: 2000, revealSeconds: REVEAL_SECONDS, missed: 0 };
const NODE = { cores: 16, memoryGiB: 64, storageGB: 1000, networkGbps: 10, gpus: 0, arch: 1 };
const IMAGE = "https://images.metalmarket.local/ubuntu-24.04-live.iso";

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `market <args>` and waits for the line `ready` matches; answers the process and its match. */
async function startPart(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(process.execPath, ["scripts/market.js", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const match = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = ready.exec(out);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    child.once("exit", (code) => reject(new Error(`market ${args[0]} exited (${code})`)));
  });
  return { child, match };
}

// ---------------------------------------------------------------- the chain and the market

const chain = await startPart(
  [
    ...["chain", "serve", "--port", "0", "--hardfork", QUORUM_LIKE.hardfork],
    ...["--block-gas-limit", String(QUORUM_LIKE.blockGasLimit)],
  ],
  /chain listening on (\S+)/,
);
const rpcUrl = chain.match;
const provider = createProvider(rpcUrl);
const operator = new ManagedSigner(new Wallet(keyOf(0), provider));
const seller = new ManagedSigner(new Wallet(keyOf(1), provider));
const genesis = (await provider.getBlock("latest"))?.timestamp ?? 0;
const { deployment, contracts: op } = await deployMarket(operator, {
  schedule: { genesis, commitSeconds: COMMIT_SECONDS, revealSeconds: REVEAL_SECONDS, penaltyBps: 1000 },
});
const directory = await mkdtemp(join(tmpdir(), "metalmarket-bench-rounds-"));
await writeDeployment(deployment, join(directory, "deployments"));
const sent = async (tx: Promise<{ wait(): Promise<unknown> }>) =>
  eventsOfReceipt(deployment, (await (await tx).wait()) as Parameters<typeof eventsOfReceipt>[1]);
const providerTenant = Number(
  (await sent(op.market.createTenant("Bench Racks"))).find((e) => e.name === "TenantCreated")?.args.tenantId,
);
await sent(
  op.market.addMember(providerTenant, await seller.getAddress(), MemberRole.Provider | MemberRole.TenantAdmin),
);
const asSeller = attach(deployment, seller);
/** No agent runs: the leases won stay pending, which is all clearing needs. */
const agentAddress = new Wallet(keyOf(2)).address;

// ---------------------------------------------------------------- the gateway, in its own process

const { configFile, keyFile } = await writeGatewaySettings(directory, rpcUrl, keyOf(0), {
  chain: { blockSeconds: QUORUM_LIKE.blockSeconds },
  // Berlin has no fee market and EDR prices gas: enough for each buyer's thousand transactions.
  gas: { minimumWei: "1000000000000000000", targetWei: "20000000000000000000" },
});
const gateway = await startPart(
  ["gateway", "run", "--config", configFile, "--log-level", "warn"],
  /gateway listening on (\S+)/,
);
const url = gateway.match;
const adminKey = (await readFile(keyFile, "utf8")).trim();

async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const response = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json()) as T;
  if (response.status >= 300)
    throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer;
}

log(`setting up ${BUYERS} custodial buyers through the gateway ...`);
const { tenant } = await api<{ tenant: { tenantId: number } }>("POST", "/tenants", adminKey, { name: "Bench Buyers" });
const buyers = await Promise.all(
  Array.from({ length: BUYERS }, async (_, i) => {
    const created = await api<{ apiKey: string; user: { userId: string } }>(
      "POST",
      `/tenants/${tenant.tenantId}/users`,
      adminKey,
      { name: `Buyer ${i}`, email: `buyer${i}@bench.test`, roles: ["buyer"] },
    );
    await api("POST", "/credits/grant", adminKey, { userId: created.user.userId, amount: "10000000" });
    return created.apiKey;
  }),
);
// From here on, the chain keeps a QBFT network's pace.
await provider.send("evm_setAutomine", [false]);
await provider.send("evm_setIntervalMining", [QUORUM_LIKE.blockSeconds * 1000]);

// ---------------------------------------------------------------- rounds

interface RoundFigures {
  roundId: number;
  bids: number;
  refused: number;
  revealed: number;
  missed: number;
  matched: number;
  commitSeconds: number;
  revealSeconds: number;
  clearSeconds: number;
  clearTransactions: number;
  maxClearTxGas: number;
}

const chainNow = async () => (await provider.getBlock("latest"))?.timestamp ?? 0;
async function jumpTo(time: number): Promise<void> {
  const now = await chainNow();
  if (time > now) await provider.send("evm_increaseTime", [time - now]);
  await provider.send("evm_mine", []);
}

/** Lists this round's auction offers: fresh nodes, two days of hour slices from `from`. */
async function listOffers(from: number): Promise<number[]> {
  const offers: number[] = [];
  const registered = await Promise.all(
    Array.from({ length: OFFERS_PER_ROUND }, (_, i) =>
      sent(asSeller.nodes.registerNode(NODE, 60, agentAddress, `rack=R${i}`)),
    ),
  );
  const created = await Promise.all(
    registered.map((events) =>
      sent(
        asSeller.offers.createOffer({
          nodeId: Number(events.find((e) => e.name === "NodeRegistered")?.args.nodeId),
          start: from,
          end: from + 2 * DAY,
          sliceSeconds: HOUR,
          minSlices: 1,
          maxSlices: 2,
          fromHour: 0,
          toHour: 0,
          model: PriceModel.Auction,
          pricePerHour: parseCredits("1"),
          surgeBps: 0,
          sealedReserve: `0x${"00".repeat(32)}`,
        }),
      ),
    ),
  );
  for (const events of created) offers.push(Number(events.find((e) => e.name === "OfferCreated")?.args.offerId));
  return offers;
}

async function round(size: number): Promise<RoundFigures> {
  const from = Math.ceil((await chainNow()) / HOUR) * HOUR + DAY;
  const offers = await listOffers(from);
  log(`round of ${size} bids on ${offers.length} auction offers ...`);
  let placed = 0;
  let refused = 0;
  let roundId = 0;
  let revealOpensAt = 0;
  let revealClosesAt = 0;
  const commitStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: COMMIT_CONCURRENCY }, async () => {
      for (let i = next++; i < size; i = next++) {
        const pool = (i * 7919) % 100 < POOL_SHARE * 100;
        const slot = (i * 104_729) % (2 * 24);
        try {
          const bid = await api<{ roundId: number; revealOpensAt: string; revealClosesAt: string }>(
            "POST",
            "/bids",
            buyers[i % BUYERS] ?? "",
            {
              ...(pool ? {} : { offerId: offers[i % offers.length] }),
              start: from + slot * HOUR,
              duration: 60,
              pricePerHour: String(2 + ((i * 31) % 19)),
              image: IMAGE,
            },
          );
          roundId = bid.roundId;
          revealOpensAt = Date.parse(bid.revealOpensAt) / 1000;
          revealClosesAt = Date.parse(bid.revealClosesAt) / 1000;
          placed += 1;
        } catch (error) {
          // A bid refused is not lost (nothing was escrowed), but the round is no longer clean.
          if (refused === 0) log(`\n  first refusal: ${error instanceof Error ? error.message : String(error)}`);
          refused += 1;
        }
        if ((placed + refused) % 500 === 0) process.stdout.write(`\r  ${placed} committed`);
      }
    }),
  );
  const commitSeconds = (performance.now() - commitStarted) / 1000;
  log(`\n  ${placed} committed in ${commitSeconds.toFixed(1)} s (${refused} refused)`);

  // The reveal window opens: the gateway has its two minutes.
  await jumpTo(revealOpensAt);
  const { market } = attach(deployment, provider);
  while ((await chainNow()) < revealClosesAt) await sleep(1000);
  const revealedLogs = await market.queryFilter(market.filters.BidRevealed(roundId));
  const times = await Promise.all(
    [...new Set(revealedLogs.map((l) => l.blockNumber))].map(async (n) => (await provider.getBlock(n))?.timestamp ?? 0),
  );
  const revealSeconds = times.length === 0 ? 0 : Math.max(...times) - Math.min(...times);
  log(`  ${revealedLogs.length} revealed over ${revealSeconds} s of chain time`);

  const clearStarted = performance.now();
  const clearFrom = await provider.getBlockNumber();
  while (!(await market.isRoundCleared(roundId))) await sleep(500);
  const clearSeconds = (performance.now() - clearStarted) / 1000;
  const cleared = await market.queryFilter(market.filters.RoundCleared(roundId));
  const clearTo = await provider.getBlockNumber();
  const selector = market.interface.getFunction("clearRound").selector;
  let maxClearTxGas = 0;
  let clearTransactions = 0;
  for (let n = clearFrom; n <= clearTo; n += 1) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.to?.toLowerCase() !== deployment.contracts.market.toLowerCase() || !tx.data.startsWith(selector)) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      clearTransactions += 1;
      maxClearTxGas = Math.max(maxClearTxGas, Number(receipt?.gasUsed ?? 0));
    }
  }
  const matched = Number(cleared[0]?.args.matched ?? 0);
  const figures: RoundFigures = {
    roundId,
    bids: placed,
    refused,
    revealed: revealedLogs.length,
    missed: placed - revealedLogs.length,
    matched,
    commitSeconds: Number(commitSeconds.toFixed(1)),
    revealSeconds,
    clearSeconds: Number(clearSeconds.toFixed(1)),
    clearTransactions,
    maxClearTxGas,
  };
  log(`  cleared in ${figures.clearSeconds} s: ${matched} matched, largest clearing transaction ${maxClearTxGas} gas`);
  return figures;
}

const rounds: RoundFigures[] = [];
try {
  for (const size of SIZES) {
    const figures = await round(size);
    rounds.push(figures);
    if (figures.missed > 0 || figures.refused > 0) break;
  }
} finally {
  gateway.child.kill("SIGTERM");
  chain.child.kill("SIGTERM");
  provider.destroy();
}

const clean = rounds.filter((r) => r.missed === 0 && r.refused === 0);
const first = rounds[0];
const results = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  blockSeconds: QUORUM_LIKE.blockSeconds,
  hardfork: QUORUM_LIKE.hardfork,
  blockGasLimit: Number(QUORUM_LIKE.blockGasLimit),
  buyers: BUYERS,
  offersPerRound: OFFERS_PER_ROUND,
  poolShare: POOL_SHARE,
  revealWindowSeconds: REVEAL_SECONDS,
  ...(first === undefined
    ? {}
    : {
        bids: first.bids,
        revealed: first.revealed,
        missed: first.missed,
        matched: first.matched,
        revealSeconds: first.revealSeconds,
        clearSeconds: first.clearSeconds,
        maxClearTxGas: Math.max(...rounds.map((r) => r.maxClearTxGas)),
      }),
  largestCleanRound: Math.max(0, ...clean.map((r) => r.bids)),
  rounds,
  targets: TARGETS,
  met: {
    bids: (first?.bids ?? 0) >= TARGETS.bids,
    revealSeconds: first !== undefined && first.revealSeconds <= TARGETS.revealSeconds,
    missed: first !== undefined && first.missed === TARGETS.missed,
  },
};
log(`largest clean round: ${results.largestCleanRound} bids`);
log(`targets: ${JSON.stringify(results.met)}`);
await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/rounds.json", `${JSON.stringify(results, null, 2)}\n`);
log("written to bench/results/rounds.json");
if (!Object.values(results.met).every(Boolean)) process.exitCode = 1;
