/**
 * The gateway's speed, with the gateway in its own process (`market gateway run`) against a local
 * EDR chain over JSON-RPC:
 * - reads: requests per second and p50/p99 latency of `GET /timeslots` and `GET /audit/events`
 *   over a read model of at least 100,000 indexed events, at concurrency 1, 16 and 64;
 * - writes: instant bookings and bid commits per second through the gateway and, in the same run,
 *   through the SDK straight to the same chain (`writeRatio` = gateway / direct), with every write
 *   counted on-chain: none lost, none duplicated. Both sign with keys of their own (the gateway
 *   with custodial keys, the SDK's users with wallets), 8 senders each, 64 writes in flight.
 * Prints a table, checks the targets, and writes bench/results/api.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { HDNodeWallet, Wallet, type JsonRpcSigner } from "ethers";

import { eventId } from "../../api/indexer/schema.js";
import {
  ManagedSigner,
  MemberRole,
  PriceModel,
  attach,
  createProvider,
  deployMarket,
  eventsOfReceipt,
  parseCredits,
  sealBid,
  writeDeployment,
  type MarketContracts,
  type MarketEventNamed,
} from "../../sdk/index.js";

/** At least this many events in the read model; `BENCH_API_EVENTS` lowers it for a quick look. */
const MIN_EVENTS = Number(process.env.BENCH_API_EVENTS ?? 100_000);
const CONCURRENCY = [1, 16, 64] as const;
const READ_REQUESTS = { 1: 300, 16: 3000, 64: 6000 } as const;
const WRITES = 2000;
const WRITE_CONCURRENCY = 64;
const ACCOUNTS = 8;
const SEED_NODES = 60;
const WRITE_NODES = 8;
const HOUR = 3600;
const DAY = 24 * HOUR;
const SEED_GAS = 600_000n;
const TARGETS = { auditP99Ms_c16: 50, writeRatio: 0.8 };
const MNEMONIC = "test test test test test test test test test test test junk";
const NODE = { cores: 16, memoryGiB: 64, storageGB: 1000, networkGbps: 10, gpus: 0, arch: 1 };
const IMAGE = "https://images.example/ubuntu-24.04-server.iso";

const log = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------- the chain and the market

// The chain runs as its own process, as a real node would: the load the benchmark sends is then
// not served from the same event loop as the chain.
const CHAIN_PORT = Number(process.env.BENCH_API_CHAIN_PORT ?? 18_545);
const chain = spawn(process.execPath, ["node_modules/hardhat/dist/src/cli.js", "run", "scripts/bench/chain.ts"], {
  env: { ...process.env, CHAIN_PORT: String(CHAIN_PORT) },
  stdio: ["ignore", "pipe", "inherit"],
});
await new Promise<void>((resolve, reject) => {
  let out = "";
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (!/^ready$/m.test(out)) return;
    chain.stdout.off("data", onData);
    chain.stdout.resume();
    resolve();
  };
  chain.stdout.on("data", onData);
  chain.once("exit", (code) => reject(new Error(`the chain exited (${code})`)));
});
const rpcUrl = `http://127.0.0.1:${CHAIN_PORT}`;
const provider = createProvider(rpcUrl);
const signerAt = async (index: number) => new ManagedSigner((await provider.getSigner(index)) as JsonRpcSigner);
const operator = await signerAt(0);
const genesis = (await provider.getBlock("latest"))?.timestamp ?? 0;
// Automining gives every transaction its own block, a second apart at least, so the chain's clock
// runs far ahead of the wall clock here: rounds a week long keep every bid commit in one round.
const { deployment, contracts: op } = await deployMarket(operator, {
  schedule: { genesis, commitSeconds: 7 * DAY, revealSeconds: DAY },
});
const directory = await mkdtemp(join(tmpdir(), "metalmarket-bench-api-"));
await writeDeployment(deployment, join(directory, "deployments"));

async function send(tx: Promise<{ wait(): Promise<unknown> }>) {
  const receipt = (await (await tx).wait()) as Parameters<typeof eventsOfReceipt>[1];
  return eventsOfReceipt(deployment, receipt);
}

const created = async (tx: Promise<{ wait(): Promise<unknown> }>, name: string, arg: string) => {
  const event = (await send(tx)).find((e) => e.name === name);
  if (event === undefined) throw new Error(`no ${name}`);
  return Number((event.args as unknown as Record<string, unknown>)[arg]);
};

const providerTenant = await created(op.market.createTenant("Bench Racks"), "TenantCreated", "tenantId");
const buyerTenant = await created(op.market.createTenant("Bench Buyers"), "TenantCreated", "tenantId");
const seller = await signerAt(1);
await send(
  op.market.addMember(providerTenant, await seller.getAddress(), MemberRole.Provider | MemberRole.TenantAdmin),
);
const sellerMarket = attach(deployment, seller);
const buyers: { signer: ManagedSigner; address: string; c: MarketContracts }[] = [];
for (let i = 0; i < ACCOUNTS; i += 1) {
  // Buyers sign their own transactions, as an SDK user does with a key of their own; the node's
  // accounts would sign inside the chain and hide that work.
  const key = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${2 + i}`).privateKey;
  const signer = new ManagedSigner(new Wallet(key, provider));
  const address = await signer.getAddress();
  await send(op.market.addMember(buyerTenant, address, MemberRole.Buyer));
  const c = attach(deployment, signer);
  const credits = parseCredits("100000000");
  await send(op.credits.grant(address, credits, "bench"));
  await send(c.credits["transferAndCall(address,uint256)"](deployment.contracts.market, credits));
  buyers.push({ signer, address, c });
}

/** The next whole hour but one on the chain's clock, which runs ahead of the wall clock here. */
async function nextHour(): Promise<number> {
  const now = (await provider.getBlock("latest"))?.timestamp ?? 0;
  return Math.ceil(now / HOUR) * HOUR + HOUR;
}
const windowStart = await nextHour();
async function listNodes(count: number, days: number, from: number): Promise<number[]> {
  const offers: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const nodeId = await created(
      sellerMarket.nodes.registerNode(NODE, 60, await seller.getAddress(), `rack=B${i}`),
      "NodeRegistered",
      "nodeId",
    );
    offers.push(
      await created(
        sellerMarket.offers.createOffer({
          nodeId,
          start: from,
          end: from + days * DAY,
          sliceSeconds: HOUR,
          minSlices: 1,
          maxSlices: 4,
          fromHour: 0,
          toHour: 0,
          model: PriceModel.Fixed,
          pricePerHour: parseCredits("2"),
          surgeBps: 0,
          sealedReserve: `0x${"00".repeat(32)}`,
        }),
        "OfferCreated",
        "offerId",
      ),
    );
  }
  return offers;
}

// ---------------------------------------------------------------- 100,000 events of bookings

log(`seeding at least ${MIN_EVENTS} events of bookings on ${SEED_NODES} nodes ...`);
const seedOffers = await listNodes(SEED_NODES, 30, windowStart);
const seedStarted = performance.now();
let events = (await provider.getLogs({ fromBlock: 0, address: Object.values(deployment.contracts) })).length;
let slot = 0;
while (events < MIN_EVENTS) {
  const batch = Array.from({ length: 400 }, () => {
    const offerId = seedOffers[slot % SEED_NODES] ?? 1;
    const start = windowStart + Math.floor(slot / SEED_NODES) * HOUR;
    const buyer = buyers[slot % ACCOUNTS];
    slot += 1;
    if (buyer === undefined) throw new Error("no buyer");
    return send(buyer.c.offers.bookInstant(offerId, start, 1, parseCredits("2"), 0, IMAGE, { gasLimit: SEED_GAS }));
  });
  events += (await Promise.all(batch)).reduce((sum, emitted) => sum + emitted.length, 0);
  process.stdout.write(`\r  ${events} events`);
}
log(`\n  ${slot} bookings in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------- the gateway, in its own process

const secretFile = join(directory, "master.secret");
await writeFile(secretFile, randomBytes(32).toString("hex"), { mode: 0o600 });
const keyFile = join(directory, "admin.key");
const configFile = join(directory, "gateway.json");
await writeFile(
  configFile,
  JSON.stringify({
    rpcUrl,
    deploymentsDir: join(directory, "deployments"),
    database: join(directory, "gateway.sqlite"),
    masterSecretFile: secretFile,
    port: 0,
    operatorKey: { privateKey: HDNodeWallet.fromPhrase(MNEMONIC, undefined, "m/44'/60'/0'/0/0").privateKey },
    bootstrapAdmin: { apiKeyFile: keyFile },
    limits: { requestsPerMinute: 10_000_000 },
  }),
);
const gateway = spawn(
  process.execPath,
  ["scripts/market.js", "gateway", "run", "--config", configFile, "--log-level", "warn"],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  gateway.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    const match = /gateway listening on (\S+)/.exec(out);
    if (match?.[1] !== undefined) resolve(match[1]);
  });
  gateway.once("exit", (code) => reject(new Error(`the gateway exited (${code})`)));
});
const adminKey = (await readFile(keyFile, "utf8")).trim();
const indexStarted = performance.now();
while ((await fetch(`${url}/readyz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
const indexSeconds = (performance.now() - indexStarted) / 1000;
log(`gateway at ${url} indexed ${events} events in ${indexSeconds.toFixed(1)} s`);

async function api<T>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined
        ? {}
        : { "content-type": "application/json", "idempotency-key": randomBytes(12).toString("hex") }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

// ---------------------------------------------------------------- reads

interface LoadFigures {
  concurrency: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

async function load(concurrency: number, requests: number, pathOf: (i: number) => string): Promise<LoadFigures> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const t0 = performance.now();
        const response = await fetch(url + pathOf(i), { headers: { authorization: `Bearer ${adminKey}` } });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status !== 200) errors += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests,
    rps: Math.round(requests / seconds),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
    p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
    errors,
  };
}

const leaseCount = Number(await op.leases.leaseCount());
const lastEvent = eventId(await provider.getBlockNumber(), 0);
const auditPaths = [
  () => "/audit/events?limit=100",
  (i: number) => `/audit/events?account=${buyers[i % ACCOUNTS]?.address}&limit=100`,
  (i: number) => `/audit/events?node=${1 + (i % SEED_NODES)}&limit=100`,
  () => "/audit/events?type=LeaseCreated&limit=100",
  (i: number) => `/audit/events?lease=${1 + ((i * 7919) % leaseCount)}`,
  (i: number) => `/audit/events?after=${(i * 104_729) % lastEvent}&limit=100`,
];
const reads: Record<string, LoadFigures[]> = { timeslots: [], audit: [] };
for (const concurrency of CONCURRENCY) {
  const requests = READ_REQUESTS[concurrency];
  reads.timeslots?.push(
    await load(concurrency, requests, (i) => {
      const start = windowStart + (i % 600) * HOUR;
      return `/timeslots?cpu=4&ram=8&start=${start}&end=${start + DAY}&limit=100`;
    }),
  );
  reads.audit?.push(await load(concurrency, requests, (i) => auditPaths[i % auditPaths.length]?.(i) ?? ""));
  for (const [endpoint, figures] of Object.entries(reads)) {
    const f = figures.at(-1);
    log(`  ${endpoint} at concurrency ${concurrency}: ${f?.rps} requests/s, p50 ${f?.p50Ms} ms, p99 ${f?.p99Ms} ms`);
  }
}

// ---------------------------------------------------------------- writes

log(`writing ${WRITES} bookings and ${WRITES} bid commits each way ...`);
const writeStart = await nextHour();
const writeOffers = await listNodes(WRITE_NODES * 2, 20, writeStart);
const directOffers = writeOffers.slice(0, WRITE_NODES);
const gatewayOffers = writeOffers.slice(WRITE_NODES);
const slotOf = (offers: number[], i: number) => ({
  offerId: offers[i % WRITE_NODES] ?? 1,
  start: writeStart + Math.floor(i / WRITE_NODES) * HOUR,
});

// Gateway users: a buyer tenant of custodial users with credits, made through the API.
const { body: made } = await api<{ tenant: { tenantId: number } }>("POST", "/tenants", adminKey, {
  name: "API Buyers",
});
const apiBuyers: { token: string; address: string }[] = [];
for (let i = 0; i < ACCOUNTS; i += 1) {
  const { body } = await api<{ apiKey: string; user: { userId: string; address: string } }>(
    "POST",
    `/tenants/${made.tenant.tenantId}/users`,
    adminKey,
    { name: `API buyer ${i}`, email: `buyer${i}@bench.test`, roles: ["buyer"] },
  );
  await api("POST", "/credits/grant", adminKey, { userId: body.user.userId, amount: "1000000" });
  apiBuyers.push({ token: body.apiKey, address: body.user.address });
}

async function timed(count: number, concurrency: number, write: (i: number) => Promise<boolean>) {
  let next = 0;
  let ok = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        if (await write(i)) ok += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    writes: count,
    succeeded: ok,
    seconds: Number(seconds.toFixed(2)),
    tps: Number((count / seconds).toFixed(1)),
  };
}

const directBookings = await timed(WRITES, WRITE_CONCURRENCY, async (i) => {
  const { offerId, start } = slotOf(directOffers, i);
  const buyer = buyers[i % ACCOUNTS];
  if (buyer === undefined) return false;
  await send(buyer.c.offers.bookInstant(offerId, start, 1, parseCredits("2"), 0, IMAGE));
  return true;
});
const gatewayBookings = await timed(WRITES, WRITE_CONCURRENCY, async (i) => {
  const { offerId, start } = slotOf(gatewayOffers, i);
  const buyer = apiBuyers[i % ACCOUNTS];
  if (buyer === undefined) return false;
  const answer = await api("POST", `/timeslots/${offerId}-${start}/request`, buyer.token, {
    duration: 60,
    image: IMAGE,
  });
  return answer.status === 201;
});

const round = Number(await op.market.currentRound());
const domain = { chainId: deployment.chainId, market: deployment.contracts.market };
const bidTerms = (i: number) => ({
  roundId: round,
  offerId: 0,
  profileId: 0,
  start: writeStart + 20 * DAY + i * HOUR,
  duration: HOUR,
  pricePerHour: parseCredits("2"),
  replacesLease: 0,
});
const directCommits = await timed(WRITES, WRITE_CONCURRENCY, async (i) => {
  const buyer = buyers[i % ACCOUNTS];
  if (buyer === undefined) return false;
  const bid = sealBid(domain, buyer.address, bidTerms(i), parseCredits("2"));
  await send(buyer.c.market.commitBid(bid.commitment, bid.deposit, bid.terms.roundId));
  return true;
});
const gatewayCommits = await timed(WRITES, WRITE_CONCURRENCY, async (i) => {
  const buyer = apiBuyers[i % ACCOUNTS];
  if (buyer === undefined) return false;
  const terms = bidTerms(i);
  const answer = await api("POST", "/bids", buyer.token, {
    start: terms.start,
    duration: 60,
    pricePerHour: "2",
  });
  return answer.status === 201;
});

// Every write is counted on-chain: one lease per booking answered, one commit per bid answered.
const apiAddresses = new Set(apiBuyers.map((b) => b.address.toLowerCase()));
const onChain = (await provider.getLogs({ fromBlock: 0, address: Object.values(deployment.contracts) })).flatMap(
  (log) => eventsOfReceipt(deployment, { logs: [log] }),
);
const leasesByGateway = onChain.filter(
  (e): e is MarketEventNamed<"LeaseCreated"> =>
    e.name === "LeaseCreated" && apiAddresses.has(e.args.buyer.toLowerCase()),
);
const commitsByGateway = onChain.filter(
  (e) => e.name === "BidCommitted" && apiAddresses.has(e.args.bidder.toLowerCase()),
);
const slots = new Set(leasesByGateway.map((e) => `${e.args.nodeId}-${e.args.start}`));
const writeCheck = {
  bookingsAnswered: gatewayBookings.succeeded,
  leasesOnChain: leasesByGateway.length,
  commitsAnswered: gatewayCommits.succeeded,
  commitsOnChain: commitsByGateway.length,
  duplicatedLeases: leasesByGateway.length - slots.size,
};
const lost =
  writeCheck.bookingsAnswered !== WRITES ||
  writeCheck.leasesOnChain !== WRITES ||
  writeCheck.commitsAnswered !== WRITES ||
  writeCheck.commitsOnChain !== WRITES ||
  writeCheck.duplicatedLeases !== 0;

// ---------------------------------------------------------------- report

// Three decimals, and the target checked on them: 0.797 is not 0.8.
const ratio = (gatewayFigure: number, direct: number) => Number((gatewayFigure / direct).toFixed(3));
const writes = {
  bookings: {
    direct: directBookings,
    gateway: gatewayBookings,
    writeRatio: ratio(gatewayBookings.tps, directBookings.tps),
  },
  bidCommits: {
    direct: directCommits,
    gateway: gatewayCommits,
    writeRatio: ratio(gatewayCommits.tps, directCommits.tps),
  },
};
const auditP99 = reads.audit?.find((f) => f.concurrency === 16)?.p99Ms ?? Infinity;
const writeRatio = Math.min(writes.bookings.writeRatio, writes.bidCommits.writeRatio);
const results = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  indexedEvents: events,
  indexSeconds: Number(indexSeconds.toFixed(1)),
  reads,
  writes,
  writeCheck,
  targets: TARGETS,
  met: {
    auditP99Ms_c16: auditP99 <= TARGETS.auditP99Ms_c16,
    writeRatio: writeRatio >= TARGETS.writeRatio,
    noLostWrites: !lost,
  },
};

log("\nreads (requests/s, p50 ms, p99 ms)");
log("| endpoint | concurrency | rps | p50 ms | p99 ms | errors |\n| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [endpoint, figures] of Object.entries(reads)) {
  for (const f of figures) log(`| ${endpoint} | ${f.concurrency} | ${f.rps} | ${f.p50Ms} | ${f.p99Ms} | ${f.errors} |`);
}
log("\nwrites (transactions/s)");
log("| write | direct (SDK) | gateway | writeRatio |\n| --- | ---: | ---: | ---: |");
log(`| instant bookings | ${directBookings.tps} | ${gatewayBookings.tps} | ${writes.bookings.writeRatio} |`);
log(`| bid commits | ${directCommits.tps} | ${gatewayCommits.tps} | ${writes.bidCommits.writeRatio} |`);
log(`\non-chain check: ${JSON.stringify(writeCheck)}`);
log(`targets: ${JSON.stringify(results.met)}`);

await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/api.json", `${JSON.stringify(results, null, 2)}\n`);
log("written to bench/results/api.json");

await stop(gateway);
provider.destroy();
await stop(chain);
if (!Object.values(results.met).every(Boolean)) process.exitCode = 1;

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
