/**
 * The agent's speed, against a local EDR chain over JSON-RPC and zero-delay simulated BMCs:
 * - reactionMs: from the booking's block being mined to the agent's first request to that node's BMC;
 * - overheadMs: the whole start sequence, from that first request to the lease being provisioned;
 * - leases200Seconds: 200 leases on 200 nodes booked at once, until the last is provisioned, while
 *   20 more nodes have broken BMCs (their leases must fail without holding the others up).
 * Prints a table, checks the targets, and writes bench/results/agent.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { BmcFleet } from "../../oracle/bmc-sim/fleet.js";
import { DEFAULT_AGENT_OPTIONS } from "../../oracle/agent/agent.js";
import { startAgent } from "../../oracle/agent/run.js";
import type { Logger } from "../../sdk/log.js";
import { eventsOfReceipt, type MarketEvent } from "../../sdk/index.js";
import { offerNow, openLocalMarket, sendBooking } from "../lib/local-market.js";

const REACTION_LEASES = 50;
const CONCURRENT_LEASES = 200;
const BROKEN_NODES = 20;
const TARGETS = { reactionMs_p50: 50, leases200Seconds: 10 };
const HOUR = 3600;
/** Time the 200 bookings need to be sent and mined inside one slice. */
const BOOKING_MARGIN_SECONDS = 120;
const IMAGE = "https://images.example/ubuntu-24.04-server.iso";
const BMC = { username: "bench", password: "bench-bmc-password" };

const nodeCount = REACTION_LEASES + CONCURRENT_LEASES + BROKEN_NODES;
const world = await openLocalMarket();
const fleet = await BmcFleet.start({ count: nodeCount, ...BMC, initial: { power: "On" } });
process.stdout.write(`registering ${nodeCount} nodes and their offers ...\n`);
const nodeIds: number[] = [];
for (let i = 0; i < nodeCount; i += 1) nodeIds.push(await world.registerNode());
// Hour slices: 200 bookings sent over some seconds and mined together must not see their slice end.
const offers = [];
for (const nodeId of nodeIds) offers.push(await offerNow(world, nodeId, HOUR));

// The agent learns when each lease is provisioned or failed from its own log.
const provisionedAt = new Map<number, number>();
const failedAt = new Map<number, number>();
const logger: Logger = {
  debug() {},
  info(message, fields) {
    if (message === "lease provisioned") provisionedAt.set(Number(fields?.leaseId), performance.now());
  },
  warn() {},
  error(message, fields) {
    if (message.startsWith("provisioning failed")) failedAt.set(Number(fields?.leaseId), performance.now());
  },
};
const running = await startAgent(
  {
    rpcUrl: world.rpcUrl,
    deployments: join(world.directory, "deployments"),
    key: { keystore: world.agent.keystore, passwordFile: world.agent.passwordFile },
    databasePath: join(world.directory, "agent-data", "agent.sqlite"),
    nodes: nodeIds.map((nodeId, i) => ({
      nodeId,
      bmc: { url: fleet.bmc(i).url, systemId: fleet.bmc(i).systemId, credentials: BMC },
    })),
    options: {},
  },
  logger,
);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const timeOf = (times: Map<number, number>, leaseId: number) => times.get(leaseId) ?? Number.NaN;
const round = (value: number) => Math.round(value * 10) / 10;

let figures: Record<string, number>;
try {
  const until = async (done: () => boolean, what: string, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const leaseOf = (events: MarketEvent[]) => {
    const created = events.find((event) => event.name === "LeaseCreated");
    if (created === undefined) throw new Error("no LeaseCreated event");
    return Number(created.args.leaseId);
  };

  // ------------------------------------------------------------------ reaction and overhead, one lease at a time
  process.stdout.write(`measuring reaction over ${REACTION_LEASES} leases ...\n`);
  const reaction: number[] = [];
  const overhead: number[] = [];
  for (const [i, offer] of offers.slice(0, REACTION_LEASES).entries()) {
    const bmc = fleet.bmc(i);
    const leaseId = leaseOf(await world.send(sendBooking(world, offer, IMAGE, 1)));
    const minedAt = performance.now();
    await until(() => provisionedAt.has(leaseId), `lease ${leaseId}`);
    const first = bmc.requests.find((request) => request.at >= minedAt);
    if (first === undefined) throw new Error(`no BMC request for lease ${leaseId}`);
    reaction.push(first.at - minedAt);
    overhead.push(timeOf(provisionedAt, leaseId) - first.at);
  }

  // ------------------------------------------------------------------ 200 leases at once, 20 broken BMCs among them
  process.stdout.write(`booking ${CONCURRENT_LEASES} leases at once (and ${BROKEN_NODES} on broken BMCs) ...\n`);
  for (const bmc of fleet.bmcs.slice(REACTION_LEASES + CONCURRENT_LEASES)) bmc.faults = { failAll: true };
  const intoHour = Math.floor(Date.now() / 1000) % HOUR;
  if (intoHour > HOUR - BOOKING_MARGIN_SECONDS)
    await new Promise((resolve) => setTimeout(resolve, (HOUR - intoHour + 1) * 1000));
  await world.provider.send("evm_setAutomine", [false]);
  const sent = [];
  for (const offer of offers.slice(REACTION_LEASES)) sent.push(await sendBooking(world, offer, IMAGE, 1));
  await world.provider.send("evm_setAutomine", [true]);
  const bookedAt = performance.now();
  for (;;) {
    await world.provider.send("evm_mine", []);
    const pending = (await world.provider.send("eth_getBlockByNumber", ["pending", false])) as {
      transactions: unknown[];
    };
    if (pending.transactions.length === 0) break;
  }
  const leaseIds = [];
  for (const tx of sent) {
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("a booking was not mined");
    leaseIds.push(leaseOf(eventsOfReceipt(world.deployment, receipt)));
  }
  const healthy = leaseIds.slice(0, CONCURRENT_LEASES);
  const broken = leaseIds.slice(CONCURRENT_LEASES);
  await until(() => healthy.every((id) => provisionedAt.has(id)), "the 200 leases");
  const leases200Seconds = (Math.max(...healthy.map((id) => timeOf(provisionedAt, id))) - bookedAt) / 1000;
  await until(() => broken.every((id) => failedAt.has(id)), "the broken nodes' leases to fail");
  const brokenFailedSeconds = (Math.max(...broken.map((id) => timeOf(failedAt, id))) - bookedAt) / 1000;
  figures = {
    reactionMs_p50: round(percentile(reaction, 50)),
    reactionMs_p99: round(percentile(reaction, 99)),
    overheadMs_p50: round(percentile(overhead, 50)),
    overheadMs_p99: round(percentile(overhead, 99)),
    leases200Seconds: round(leases200Seconds),
    brokenLeasesFailedSeconds: round(brokenFailedSeconds),
  };
} finally {
  await running.close();
  await fleet.close();
  await world.close();
}

// ------------------------------------------------------------------ report
console.table(
  Object.entries(figures).map(([figure, value]) => {
    const target = TARGETS[figure as keyof typeof TARGETS];
    return { figure, value, target: target ?? "", ok: target === undefined ? "" : value <= target ? "yes" : "NO" };
  }),
);
await mkdir("bench/results", { recursive: true });
await writeFile(
  "bench/results/agent.json",
  `${JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      setup:
        `local EDR chain over JSON-RPC (automine), zero-delay simulated BMCs, agent polling every ` +
        `${DEFAULT_AGENT_OPTIONS.pollIntervalMs} ms with its default settings; ${REACTION_LEASES} leases for reaction ` +
        `and overhead; ${CONCURRENT_LEASES} leases at once beside ${BROKEN_NODES} nodes whose BMCs answer 500`,
      ...figures,
      targets: TARGETS,
    },
    null,
    2,
  )}\n`,
);
console.log("wrote bench/results/agent.json");
