/**
 * The whole journey, as users live it: `market start` runs the marketplace; a provider runs its own
 * simulated BMCs and agent as processes of their own; everyone acts through the `market` CLI over
 * real HTTP. The test moves only the chain's clock (the hours between steps) and, in the second
 * run, kills the agent and starts it again half-way.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterAll, describe, expect, it } from "vitest";

import { createProvider, latestBlockTime, parseCredits } from "../../sdk/index.js";
import { freePort } from "../../scripts/lib/free-port.js";
import { QUORUM_LIKE } from "../../scripts/lib/local-chain.js";
import { roomToCommit, runStack, type RunningStack } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../scripts/market.js");
const HOUR = 3600;
const QUARTER = 900;
const BMC_PASSWORD = "journey bmc password";
const LEASE_IMAGE = "https://images.example/render-node.iso";
/** The gateway's image for a lease whose request names none. */
const DEFAULT_IMAGE = "https://images.metalmarket.local/ubuntu-24.04-live.iso";
/** The agent, BMCs and gateway work in the background; each step waits this long at most. */
const STEP_TIMEOUT_MS = 60_000;
/** A journey on a chain with 2 s blocks: some forty transactions, each waiting for its block. */
const JOURNEY_TIMEOUT_MS = 300_000;

interface Lease {
  leaseId: number;
  nodeId: number;
  status: string;
  endReason: string | null;
  refund: string | null;
  nodeAddress: string | null;
}
interface Balance {
  wallet: string;
  available: string;
  escrowed: string;
}
interface Bid {
  bidRef: string;
  state: string;
  roundId: number;
  revealOpensAt: string;
  revealClosesAt: string;
  leaseId: number | null;
}

/** The journey's end, in the fields that do not depend on how fast the machine ran it. */
interface Outcome {
  leases: Pick<Lease, "leaseId" | "nodeId" | "status" | "endReason">[];
  bids: string[];
  events: string[];
  /** Per machine, the images it booted from CD (how often it power-cycled depends on timing). */
  images: string[][];
}

/** A `market` process whose stdout is kept; its stderr (logs) goes to `log`, for a failure's story. */
function background(args: string[], log: string): { child: ChildProcessWithoutNullStreams; stdout: () => string } {
  const child = spawn(process.execPath, [CLI, ...args]);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.pipe(createWriteStream(log, { flags: "a" }));
  return { child, stdout: () => out };
}

async function stopped(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exit;
}

async function journey(directory: string, options: { restartAgent: boolean }): Promise<Outcome> {
  // The provider's agent account, and where it serves usage: the operator tells the gateway.
  const agentPassword = join(directory, "agent.password");
  await writeFile(agentPassword, "journey agent keystore password", { mode: 0o600 });
  const keystore = join(directory, "agent.keystore.json");
  const { stdout: keygen } = await run(process.execPath, [
    CLI,
    ...["agent", "keygen", "--out", keystore, "--password-file", agentPassword],
  ]);
  const agentAddress = (JSON.parse(keygen) as { address: string }).address;
  const usagePort = await freePort();
  const settings = join(directory, "metalmarket.json");
  await writeFile(
    settings,
    JSON.stringify({
      dataDir: "data",
      // As an operator runs it on a QBFT network: a block every 2 s, Berlin rules.
      chain: { blockSeconds: QUORUM_LIKE.blockSeconds, hardfork: QUORUM_LIKE.hardfork },
      simulatedBmcs: { count: 0 },
      gateway: { settings: { agentUsageUrls: { [agentAddress]: `http://127.0.0.1:${usagePort}` } } },
    }),
  );
  const stack: RunningStack = await runStack(["--config", settings]);
  const processes: ChildProcessWithoutNullStreams[] = [];
  const provider = createProvider(stack.rpcUrl);
  try {
    const keyFile = async (name: string, key: string) => {
      const file = join(directory, `${name}.key`);
      await writeFile(file, key, { mode: 0o600 });
      return file;
    };
    const adminKey = join(directory, "data", "state", "admin.api-key");
    /** Runs `market <args> --json` as the holder of `key`, and answers the parsed output. */
    const market = async <T>(key: string, ...args: string[]): Promise<T> => {
      try {
        const { stdout } = await run(process.execPath, [
          CLI,
          ...args,
          "--json",
          "--gateway",
          stack.gatewayUrl,
          "--api-key-file",
          key,
        ]);
        return JSON.parse(stdout) as T;
      } catch (error) {
        const { stderr } = error as { stderr?: string };
        throw new Error(`market ${args.join(" ")} failed: ${stderr ?? String(error)}`, { cause: error });
      }
    };
    const chainNow = () => latestBlockTime(provider);
    const advanceTo = async (time: number) => {
      const now = await chainNow();
      if (time > now) await provider.send("evm_increaseTime", [time - now]);
      await provider.send("evm_mine", []);
    };
    const lease = (key: string, id: number) => market<Lease>(key, "leases", "show", String(id));
    const leaseUntil = (key: string, id: number, done: (l: Lease) => boolean, what: string) =>
      waitFor(what, async () => ((l) => (done(l) ? l : undefined))(await lease(key, id)), STEP_TIMEOUT_MS);

    // The operator creates the tenants and their people, and grants the buyers credits.
    const tenant = async (name: string) =>
      (await market<{ tenant: { tenantId: number } }>(adminKey, "tenants", "create", name)).tenant.tenantId;
    // Steps that do not depend on each other run together, as several people would act at once.
    const [racks, render, climate] = await Promise.all([
      tenant("Rack Owners"),
      tenant("Render Farm"),
      tenant("Climate Lab"),
    ]);
    const person = async (tenantId: number, name: string, email: string, ...roles: string[]) => {
      const created = await market<{ user: { userId: string }; apiKey: string }>(
        adminKey,
        ...["users", "create", "--tenant", String(tenantId), "--name", name, "--email", email, "--role", ...roles],
      );
      return { userId: created.user.userId, key: await keyFile(email, created.apiKey) };
    };
    const [owner, bea, ray] = await Promise.all([
      person(racks, "Pat Provider", "pat@racks.test", "provider", "tenantAdmin"),
      person(render, "Bea Buyer", "bea@render.test", "buyer"),
      person(climate, "Ray Rival", "ray@climate.test", "buyer"),
    ]);
    await Promise.all(
      [bea, ray].map((buyer) => market(adminKey, "credits", "grant", buyer.userId, "1000", "--memo", "welcome")),
    );

    // The provider runs three BMCs and an agent of its own, and enrolls the machines.
    const passwordFile = join(directory, "bmc.password");
    await writeFile(passwordFile, BMC_PASSWORD, { mode: 0o600 });
    const fleet = background(
      [
        ...["bmc-sim", "--count", "3", "--password-file", passwordFile, "--mixed-sizes", "--user", "admin"],
        ...["--power-ms", "100", "--media-task-ms", "100"],
      ],
      join(directory, "bmcs.log"),
    );
    processes.push(fleet.child);
    const bmcs = await waitFor(
      "the simulated BMCs",
      () =>
        /^\]$/m.test(fleet.stdout()) ? (JSON.parse(fleet.stdout()) as { url: string; systemId: string }[]) : undefined,
      STEP_TIMEOUT_MS,
    );
    const funder = await provider.getSigner(1);
    await (await funder.sendTransaction({ to: agentAddress, value: 10n ** 19n })).wait();
    const nodes: number[] = [];
    for (const bmc of bmcs) {
      const enrolled = await market<{ node: { nodeId: number } }>(
        owner.key,
        ...["nodes", "enroll", "--bmc", bmc.url, "--user", "admin", "--password-file", passwordFile],
        ...["--system", bmc.systemId, "--agent", agentAddress],
      );
      nodes.push(enrolled.node.nodeId);
    }
    const agentConfig = join(directory, "agent.json");
    await writeFile(
      agentConfig,
      JSON.stringify({
        rpcUrl: stack.rpcUrl,
        deployments: join(directory, "data", "state", "deployments"),
        key: { keystore, passwordFile: agentPassword },
        dataDir: join(directory, "agent"),
        meterIntervalSeconds: 1,
        usage: { port: usagePort },
        power: { pollMs: 50 },
        nodes: bmcs.map((bmc, i) => ({
          nodeId: nodes[i],
          bmc: { url: bmc.url, username: "admin", passwordFile, systemId: bmc.systemId },
        })),
      }),
    );
    const startAgent = async () => {
      const agent = background(["agent", "run", "--config", agentConfig], join(directory, "agent.log"));
      processes.push(agent.child);
      await waitFor("the agent", () => agent.stdout().includes("agent running"), STEP_TIMEOUT_MS);
      return agent;
    };
    let agent = await startAgent();

    // The auction is listed in the round open now: leave that round room to take the bids.
    await roomToCommit(stack.rpcUrl, join(directory, "data", "state", "deployments"), 300);
    // Offers under each price model: quarter hours at a fixed price, hours at a dynamic one, an auction.
    const now = await chainNow();
    const quarter = Math.floor(now / QUARTER) * QUARTER;
    const hour = Math.floor(now / HOUR) * HOUR;
    const offer = async (node: number, ...terms: string[]) =>
      (
        await market<{ offer: { offerId: number } }>(
          owner.key,
          ...["offers", "create", "--node", String(node), "--start", String(hour), "--end", String(hour + 2 * 86_400)],
          ...terms,
        )
      ).offer.offerId;
    const [fixed, , auction] = await Promise.all([
      offer(nodes[0] ?? 0, "--model", "fixed", "--price", "2", "--slice", "15"),
      offer(nodes[1] ?? 0, "--model", "dynamic", "--price", "1", "--surge", "5000"),
      offer(nodes[2] ?? 0, "--model", "auction", "--price", "1", "--max-slices", "2"),
    ]);
    const searched = await market<{ slices: { sliceId: string }[] }>(bea.key, "timeslots", "search", "--cpu", "4");
    expect(searched.slices.map((s) => s.sliceId)).toContain(`${fixed}-${quarter + QUARTER}`);

    // Bea books the fixed-price slice under way for an hour.
    const booked = await market<{ kind: string; lease: Lease }>(
      bea.key,
      ...["timeslots", "request", `${fixed}-${quarter}`, "--duration", "60", "--image", LEASE_IMAGE],
    );
    expect(booked.kind).toBe("lease");
    const fixedLease = booked.lease.leaseId;
    if (options.restartAgent) await stopped(agent.child, "SIGKILL");

    // Bea and Ray bid sealed on the auction's slice two hours on; Ray also bids in the pool for the hour after.
    const auctionStart = hour + 2 * HOUR;
    const bid = async (who: { key: string }, ...terms: string[]) =>
      market<Bid>(who.key, "bids", "commit", "--start", String(auctionStart), ...terms);
    const [beaBid, rayBid, poolBid] = await Promise.all([
      bid(bea, "--offer", String(auction), "--duration", "60", "--price", "3"),
      bid(ray, "--offer", String(auction), "--duration", "60", "--price", "2"),
      market<Bid>(
        ray.key,
        ...["bids", "commit", "--start", String(auctionStart + HOUR), "--duration", "60", "--price", "2.5"],
      ),
    ]);
    expect([beaBid, rayBid, poolBid].map((b) => b.state)).toEqual(["committed", "committed", "committed"]);
    if (options.restartAgent) agent = await startAgent();

    // The agent provisions Bea's lease: power on, boot once from the virtual CD with her image.
    const provisioned = await leaseUntil(bea.key, fixedLease, (l) => l.nodeAddress !== null, "provisioning");
    expect(provisioned.status).toBe("active");

    // The round's reveal window: the gateway reveals both bids; then it clears the round.
    await advanceTo(Date.parse(beaBid.revealOpensAt) / 1000);
    await Promise.all(
      (
        [
          [bea, beaBid],
          [ray, rayBid],
          [ray, poolBid],
        ] as const
      ).map(([who, b]) =>
        waitFor(
          "the reveal",
          async () => (await market<Bid>(who.key, "bids", "status", b.bidRef)).state === "revealed",
          STEP_TIMEOUT_MS,
        ),
      ),
    );
    await advanceTo(Date.parse(beaBid.revealClosesAt) / 1000);
    const cleared = async (who: { key: string }, b: Bid) =>
      waitFor(
        "clearing",
        async () =>
          ((s) => (["matched", "unmatched"].includes(s.state) ? s : undefined))(
            await market<Bid>(who.key, "bids", "status", b.bidRef),
          ),
        STEP_TIMEOUT_MS,
      );
    const [won, lost, pooled] = await Promise.all([cleared(bea, beaBid), cleared(ray, rayBid), cleared(ray, poolBid)]);
    expect([won.state, lost.state, pooled.state]).toEqual(["matched", "unmatched", "matched"]);

    // Bea releases her fixed-price lease early; the unused quarters come back to her.
    const released = await market<{ lease: Lease }>(bea.key, "timeslots", "release", `${fixed}-${quarter}`);
    expect(released.lease).toMatchObject({ status: "ended", endReason: "released" });
    expect(parseCredits(released.lease.refund ?? "0")).toBeGreaterThan(0n);
    await leaseUntil(bea.key, fixedLease, (l) => l.status === "cleaned", "cleaning after the release");
    const usage = await market<{ samples: unknown[]; metering: unknown }>(
      bea.key,
      "leases",
      "usage",
      String(fixedLease),
    );
    expect(usage.metering).not.toBeNull();
    expect(usage.samples.length).toBeGreaterThan(0);

    // The auction's hour comes: Bea's won lease runs, then ends; Ray's pool lease follows on the same node.
    await advanceTo(auctionStart);
    await leaseUntil(bea.key, won.leaseId ?? 0, (l) => l.nodeAddress !== null, "the auction lease");
    await advanceTo(auctionStart + HOUR);
    await leaseUntil(ray.key, pooled.leaseId ?? 0, (l) => l.nodeAddress !== null, "the pool lease");

    // The owner needs the machine back: preempts Ray's lease, which runs on for the notice (Ray is
    // told at once), then ends; the node goes into maintenance.
    const preempted = await market<{ lease: Lease; endsAt: string }>(
      owner.key,
      "leases",
      "preempt",
      String(pooled.leaseId),
    );
    expect(preempted.lease).toMatchObject({ status: "active" });
    await advanceTo(Date.parse(preempted.endsAt) / 1000);
    await leaseUntil(ray.key, pooled.leaseId ?? 0, (l) => l.endReason === "preempted", "the preemption's end");
    await market(owner.key, "nodes", "status", String(nodes[2]), "--set", "maintenance");
    await Promise.all([
      leaseUntil(bea.key, won.leaseId ?? 0, (l) => l.status === "cleaned", "cleaning"),
      leaseUntil(ray.key, pooled.leaseId ?? 0, (l) => l.status === "cleaned", "cleaning"),
    ]);

    // The machines show what the agent did: each lease's image, booted once from CD.
    const images = await Promise.all(
      bmcs.map(async (bmc) => {
        const log = await fetch(`${bmc.url}/redfish/v1/Systems/${bmc.systemId}/LogServices/Log1/Entries`, {
          headers: { authorization: `Basic ${Buffer.from(`admin:${BMC_PASSWORD}`).toString("base64")}` },
        });
        const entries = ((await log.json()) as { Members: { MessageArgs: string[] }[] }).Members;
        const fromCd = entries.filter(({ MessageArgs: [target, image] }) => target === "Cd" && image !== undefined);
        return [...new Set(fromCd.map(({ MessageArgs }) => MessageArgs[1] ?? ""))].sort();
      }),
    );
    // Bea's own image on node 1; the gateway's default for the leases won at auction, on node 3.
    expect(images).toEqual([[LEASE_IMAGE], [], [DEFAULT_IMAGE]]);

    // The audit trail holds every step, each record checked against the chain.
    const audit = await market<{ events: { event: string; verified: boolean }[] }>(
      adminKey,
      ...["audit", "events", "--verify", "--limit", "1000"],
    );
    expect(audit.events.every((event) => event.verified)).toBe(true);
    const events = new Set(audit.events.map((event) => event.event));
    for (const step of [
      "TenantCreated",
      "CreditsGranted",
      "NodeRegistered",
      "OfferCreated",
      "LeaseCreated",
      "BidCommitted",
      "BidRevealed",
      "RoundCleared",
      "LeaseProvisioned",
      "LeaseEnded",
      "LeaseUsageReported",
      "LeaseCleaned",
      "EscrowSettled",
      "NodeStatusChanged",
    ]) {
      expect(events, step).toContain(step);
    }

    // Credits add up: what everyone holds is what was granted.
    const { users } = await market<{ users: { userId: string }[] }>(adminKey, "users", "list");
    const balances = await Promise.all(
      users.map((user) => market<Balance>(adminKey, "credits", "balance", user.userId)),
    );
    const held = balances.reduce(
      (sum, b) => sum + parseCredits(b.wallet) + parseCredits(b.available) + parseCredits(b.escrowed),
      0n,
    );
    expect(held).toBe(parseCredits("2000"));

    const leases = await market<{ leases: Lease[] }>(adminKey, "leases", "list");
    return {
      leases: leases.leases
        .map(({ leaseId, nodeId, status, endReason }) => ({ leaseId, nodeId, status, endReason }))
        .sort((a, b) => a.leaseId - b.leaseId),
      bids: [won.state, lost.state, pooled.state],
      events: [...events].sort(),
      images,
    };
  } finally {
    for (const child of processes.reverse()) await stopped(child);
    provider.destroy();
    expect(await stack.stop()).toBe(0);
  }
}

describe("the whole journey, across processes", () => {
  const directories: string[] = [];
  let undisturbed: Outcome | undefined;
  const directory = async () => {
    const made = await mkdtemp(join(tmpdir(), "metalmarket-journey-"));
    directories.push(made);
    return made;
  };
  afterAll(async () => {
    if (process.env.KEEP_JOURNEY === undefined)
      for (const made of directories) await rm(made, { recursive: true, force: true });
    else console.log(directories);
  });

  it(
    "takes tenants, nodes, offers, bookings and sealed bids to cleaned nodes, audited, with credits adding up",
    async () => {
      undisturbed = await journey(await directory(), { restartAgent: false });
      expect(undisturbed.leases).toEqual([
        { leaseId: 1, nodeId: 1, status: "cleaned", endReason: "released" },
        { leaseId: 2, nodeId: 3, status: "cleaned", endReason: "expired" },
        { leaseId: 3, nodeId: 3, status: "cleaned", endReason: "preempted" },
      ]);
    },
    JOURNEY_TIMEOUT_MS,
  );

  it(
    "ends in the same state when the agent is killed and started again half-way",
    async () => {
      const restarted = await journey(await directory(), { restartAgent: true });
      expect(restarted).toEqual(undisturbed);
    },
    JOURNEY_TIMEOUT_MS,
  );
});
