/**
 * The gateway's speed, with the gateway in its own process (`market gateway run`) against a local
 * EDR chain over JSON-RPC:
 * - reads: requests per second and p50/p99 latency of `GET /timeslots` and `GET /audit/events`
 *   over a read model of at least 1,000,000 indexed events, at concurrency 1, 16 and 64;
 * - writes: instant bookings and bid commits per second through the gateway and, in the same run,
 *   through the SDK straight to the same chain (`writeRatio` = gateway / direct), with every write
 *   counted on-chain: none lost, none duplicated. Both sign with keys of their own (the gateway
 *   with custodial keys, the SDK's users with wallets), 8 senders each, 64 writes in flight, the
 *   two taking turns in rounds.
 * Prints a table, says which targets were missed, and writes bench/results/api.json.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { eventId } from "../../api/indexer/schema.js";
import {
  createProvider,
  eventsOfReceipt,
  parseCredits,
  writeDeployment,
  type MarketEventNamed,
} from "../../sdk/index.js";
import { indexedUpTo, startGateway } from "./api/gateway.js";
import { floorServer, load, type LoadFigures } from "./api/load.js";
import { DAY, HOUR, IMAGE, setUpMarket, startChain, stop } from "./api/market.js";
import { TARGETS, pair, printReport, targetsMet } from "./api/report.js";
import { seedBookings } from "./api/seed.js";
import { api, bookDirect, commitDirect, compared } from "./api/writes.js";

/** At least this many events in the read model; `BENCH_API_EVENTS` lowers it for a quick look. */
const MIN_EVENTS = Number(process.env.BENCH_API_EVENTS ?? 1_000_000);
const CONCURRENCY = [1, 16, 64] as const;
const READ_REQUESTS = { 1: 300, 16: 3000, 64: 6000 } as const;
/** Timeslot searches cycle through this many day-long windows, spread over the seed offers. */
const WINDOWS = 600;
const WRITES = 2000;
const WRITE_CONCURRENCY = 64;
/** Direct and gateway writes alternate in this many rounds each (see `compared`). */
const WRITE_ROUNDS = 4;
const ACCOUNTS = 8;
const SEED_NODES = 60;
const WRITE_NODES = 8;
/**
 * Blocks per `eth_getLogs` of the gateway's indexer: a seed block holds a booking on every seed
 * node (240 events), so the default 2,000 blocks would be half a million events in one answer.
 */
const INDEXER_BLOCK_RANGE = 40;

const log = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------- the chain and the market

const CHAIN_PORT = Number(process.env.BENCH_API_CHAIN_PORT ?? 18_545);
const chain = await startChain(CHAIN_PORT);
const rpcUrl = `http://127.0.0.1:${CHAIN_PORT}`;
const provider = createProvider(rpcUrl);
const market = await setUpMarket(provider, ACCOUNTS);
const { deployment, op, buyers } = market;
const directory = await mkdtemp(join(tmpdir(), "metalmarket-bench-api-"));
await writeDeployment(deployment, join(directory, "deployments"));

const seeded = await seedBookings(market, { minEvents: MIN_EVENTS, nodes: SEED_NODES, log });

// ---------------------------------------------------------------- the gateway, in its own process

const gateway = await startGateway(directory, rpcUrl, { blockRange: INDEXER_BLOCK_RANGE });
const indexStarted = performance.now();
const seededHead = await provider.getBlockNumber();
await indexedUpTo(gateway, seededHead);
const indexSeconds = (performance.now() - indexStarted) / 1000;
log(`gateway at ${gateway.url} indexed ${seeded.events} events in ${indexSeconds.toFixed(1)} s`);

// ---------------------------------------------------------------- reads

const leaseCount = Number(await op.leases.leaseCount());
const lastEvent = eventId(seededHead, 0);
const windowStep = seeded.offerHours / WINDOWS;
const timeslotPath = (i: number) => {
  const start = seeded.windowStart + Math.floor((i % WINDOWS) * windowStep) * HOUR;
  return `/timeslots?cpu=4&ram=8&start=${start}&end=${start + DAY}&limit=100`;
};
const auditPaths = [
  () => "/audit/events?limit=100",
  (i: number) => `/audit/events?account=${seeded.accounts[i % seeded.accounts.length]}&limit=100`,
  (i: number) => `/audit/events?node=${1 + (i % SEED_NODES)}&limit=100`,
  () => "/audit/events?type=LeaseCreated&limit=100",
  (i: number) => `/audit/events?lease=${1 + ((i * 7919) % leaseCount)}`,
  (i: number) => `/audit/events?after=${(i * 104_729) % lastEvent}&limit=100`,
];
const auditPath = (i: number) => auditPaths[i % auditPaths.length]?.(i) ?? "";
const adminHeaders = { authorization: `Bearer ${gateway.adminKey}` };
const reads: Record<"timeslots" | "audit", LoadFigures[]> = { timeslots: [], audit: [] };
// The floor beside each: a plain HTTP server answering the same bytes (an audit page, a search).
const floor: Record<"timeslots" | "audit", LoadFigures[]> = { timeslots: [], audit: [] };
const floorServers = {
  timeslots: await floorServer((await gateway.client.send("GET", timeslotPath(0), adminHeaders)).text),
  audit: await floorServer((await gateway.client.send("GET", auditPath(0), adminHeaders)).text),
};
for (const concurrency of CONCURRENCY) {
  const requests = READ_REQUESTS[concurrency];
  reads.timeslots.push(await load(gateway.url, gateway.adminKey, concurrency, requests, timeslotPath));
  floor.timeslots.push(await load(floorServers.timeslots.url, "", concurrency, requests, timeslotPath));
  reads.audit.push(await load(gateway.url, gateway.adminKey, concurrency, requests, auditPath));
  floor.audit.push(await load(floorServers.audit.url, "", concurrency, requests, auditPath));
  for (const endpoint of ["timeslots", "audit"] as const) {
    const f = reads[endpoint].at(-1);
    const b = floor[endpoint].at(-1);
    log(
      `  ${endpoint} at concurrency ${concurrency}: ${f?.rps} requests/s, p50 ${f?.p50Ms} ms, p99 ${f?.p99Ms} ms` +
        ` (floor: ${b?.rps} requests/s, p99 ${b?.p99Ms} ms)`,
    );
  }
}
floorServers.timeslots.stop();
floorServers.audit.stop();

// ---------------------------------------------------------------- writes

log(`writing ${WRITES} bookings and ${WRITES} bid commits each way ...`);
const writesFromBlock = (await provider.getBlockNumber()) + 1;
const writeStart = await market.nextHour();
const writeOffers = await market.listNodes(WRITE_NODES * 2, 20, writeStart);
const directOffers = writeOffers.slice(0, WRITE_NODES);
const gatewayOffers = writeOffers.slice(WRITE_NODES);
const slotOf = (offers: number[], i: number) => ({
  offerId: offers[i % WRITE_NODES] ?? 1,
  start: writeStart + Math.floor(i / WRITE_NODES) * HOUR,
});

// Gateway users: a buyer tenant of custodial users with credits, made through the API.
const { body: made } = await api<{ tenant: { tenantId: number } }>(gateway, "POST", "/tenants", gateway.adminKey, {
  name: "API Buyers",
});
const apiBuyers: { token: string; address: string }[] = [];
for (let i = 0; i < ACCOUNTS; i += 1) {
  const { body } = await api<{ apiKey: string; user: { userId: string; address: string } }>(
    gateway,
    "POST",
    `/tenants/${made.tenant.tenantId}/users`,
    gateway.adminKey,
    { name: `API buyer ${i}`, email: `buyer${i}@bench.test`, roles: ["buyer"] },
  );
  await api(gateway, "POST", "/credits/grant", gateway.adminKey, { userId: body.user.userId, amount: "1000000" });
  apiBuyers.push({ token: body.apiKey, address: body.user.address });
}

const bookings = await compared(
  WRITES,
  WRITE_ROUNDS,
  WRITE_CONCURRENCY,
  async (i) => {
    const { offerId, start } = slotOf(directOffers, i);
    const buyer = buyers[i % ACCOUNTS];
    if (buyer === undefined) return false;
    await bookDirect(market, buyer, offerId, start);
    return true;
  },
  async (i) => {
    const { offerId, start } = slotOf(gatewayOffers, i);
    const buyer = apiBuyers[i % ACCOUNTS];
    if (buyer === undefined) return false;
    const answer = await api(gateway, "POST", `/timeslots/${offerId}-${start}/request`, buyer.token, {
      duration: 60,
      image: IMAGE,
    });
    return answer.status === 201;
  },
);

const round = Number(await op.market.currentRound());
const bidTerms = (i: number) => ({
  roundId: round,
  offerId: 0,
  profileId: 0,
  start: writeStart + 20 * DAY + i * HOUR,
  duration: HOUR,
  pricePerHour: parseCredits("2"),
  replacesLease: 0,
});
const commits = await compared(
  WRITES,
  WRITE_ROUNDS,
  WRITE_CONCURRENCY,
  async (i) => {
    const buyer = buyers[i % ACCOUNTS];
    if (buyer === undefined) return false;
    await commitDirect(market, buyer, bidTerms(i), parseCredits("2"));
    return true;
  },
  async (i) => {
    const buyer = apiBuyers[i % ACCOUNTS];
    if (buyer === undefined) return false;
    const terms = bidTerms(i);
    const answer = await api(gateway, "POST", "/bids", buyer.token, {
      start: terms.start,
      duration: 60,
      pricePerHour: "2",
    });
    return answer.status === 201;
  },
);

// Every write is counted on-chain: one lease per booking answered, one commit per bid answered.
const apiAddresses = new Set(apiBuyers.map((b) => b.address.toLowerCase()));
const onChain = (
  await provider.getLogs({ fromBlock: writesFromBlock, address: Object.values(deployment.contracts) })
).flatMap((entry) => eventsOfReceipt(deployment, { logs: [entry] }));
const leasesByGateway = onChain.filter(
  (e): e is MarketEventNamed<"LeaseCreated"> =>
    e.name === "LeaseCreated" && apiAddresses.has(e.args.buyer.toLowerCase()),
);
const commitsByGateway = onChain.filter(
  (e) => e.name === "BidCommitted" && apiAddresses.has(e.args.bidder.toLowerCase()),
);
const slots = new Set(leasesByGateway.map((e) => `${e.args.nodeId}-${e.args.start}`));
const writeCheck = {
  bookingsAnswered: bookings.gateway.succeeded,
  leasesOnChain: leasesByGateway.length,
  commitsAnswered: commits.gateway.succeeded,
  commitsOnChain: commitsByGateway.length,
  duplicatedLeases: leasesByGateway.length - slots.size,
};
const noLostWrites =
  writeCheck.bookingsAnswered === WRITES &&
  writeCheck.leasesOnChain === WRITES &&
  writeCheck.commitsAnswered === WRITES &&
  writeCheck.commitsOnChain === WRITES &&
  writeCheck.duplicatedLeases === 0;

// ---------------------------------------------------------------- report

const writes = { bookings: pair(bookings.direct, bookings.gateway), bidCommits: pair(commits.direct, commits.gateway) };
// Below a million events (a quick look), the figures are not the benchmark's.
const met = targetsMet(reads, writes, noLostWrites, seeded.events >= 1_000_000);
const results = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  indexedEvents: seeded.events,
  seed: { bookings: seeded.bookings, nodes: seeded.nodes, seconds: Number(seeded.seconds.toFixed(1)) },
  indexSeconds: Number(indexSeconds.toFixed(1)),
  reads,
  floor,
  writes,
  writeCheck,
  targets: TARGETS,
  met,
};
printReport(log, reads, floor, writes, met);
log(`on-chain check: ${JSON.stringify(writeCheck)}`);

await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/api.json", `${JSON.stringify(results, null, 2)}\n`);
log("written to bench/results/api.json");

gateway.client.close();
await stop(gateway.process);
provider.destroy();
await stop(chain);
if (!Object.values(met).every(Boolean)) process.exitCode = 1;
