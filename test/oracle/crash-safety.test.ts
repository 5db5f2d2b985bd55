import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { SimulatedBmc } from "../../oracle/bmc-sim/bmc.js";
import type { BmcFleet } from "../../oracle/bmc-sim/fleet.js";
import { AgentStore } from "../../oracle/agent/store.js";
import { LeaseStatus, fetchEvents } from "../../sdk/index.js";
import { BMC_PASSWORD, BMC_USER, LEASE_IMAGE, startFleet } from "../helpers/agent.js";
import { waitFor } from "../helpers/wait.js";
import { bookCurrentSlice, openLocalMarket, type LocalMarket } from "../../scripts/lib/local-market.js";

const OLD_IMAGE = "https://images.example/previous-tenant.iso";
const CLI = join(import.meta.dirname, "../../scripts/market.js");

/**
 * The agent as a separate process, restarted whenever it dies. `killAt` arms a SIGKILL at the
 * n-th change the agent sends anywhere (a BMC POST or PATCH, or a transaction): the change
 * reaches its target, the agent never hears back.
 */
class AgentSupervisor {
  #child: ChildProcess | undefined;
  #changes = 0;
  #killAt = 0;
  kills = 0;
  log = "";

  constructor(readonly configPath: string) {}

  arm(killAt: number): void {
    this.#changes = 0;
    this.#killAt = killAt;
  }

  /** Counts a change on its way; kills the agent if it is the armed one. */
  change(): void {
    this.#changes += 1;
    if (this.#changes === this.#killAt && this.#child !== undefined) {
      this.kills += 1;
      this.#child.kill("SIGKILL");
    }
  }

  start(): void {
    const child = spawn(process.execPath, [CLI, "agent", "run", "--config", this.configPath, "--log-level", "warn"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (chunk: Buffer) => (this.log += chunk.toString()));
    child.on("exit", (_code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (signal === "SIGKILL") this.start();
    });
    this.#child = child;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    });
  }
}

/** A JSON-RPC pass-through that reports each transaction the agent sends, after the chain took it. */
async function transactionTap(upstream: string, onTransaction: () => void): Promise<{ url: string; server: Server }> {
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      const forward = request(
        upstream,
        { method: "POST", headers: { "content-type": "application/json" } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("end", () => {
            if (body.includes("eth_sendRawTransaction")) onTransaction();
            outgoing
              .writeHead(answer.statusCode ?? 502, { "content-type": "application/json" })
              .end(Buffer.concat(parts));
          });
        },
      );
      forward.on("error", () => outgoing.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The changes the agent made at the BMC, sessions aside (a restarted agent logs in again, rightly). */
function changesAt(bmc: SimulatedBmc, since: number): string[] {
  return bmc.requests
    .slice(since)
    .filter((r) => r.method !== "GET" && !r.path.includes("/SessionService/"))
    .map((r) => `${r.method} ${r.path.split("/").slice(-1)[0]} ${JSON.stringify(r.body ?? {})}`);
}

describe("the agent after a crash", () => {
  let world: LocalMarket;
  let fleet: BmcFleet;
  let bmc: SimulatedBmc;
  let nodeId: number;
  let tap: { url: string; server: Server };
  let supervisor: AgentSupervisor;

  beforeAll(async () => {
    world = await openLocalMarket();
    fleet = await startFleet(1, { behaviour: { powerTransitionMs: 20, mediaTaskMs: 20, taskRetryAfterSeconds: 0 } });
    bmc = fleet.bmc(0);
    nodeId = await world.registerNode();
    tap = await transactionTap(world.rpcUrl, () => supervisor.change());
    const configPath = join(world.directory, "agent.json");
    await writeFile(join(world.directory, "bmc.password"), `${BMC_PASSWORD}\n`, { mode: 0o600 });
    await writeFile(
      configPath,
      JSON.stringify({
        rpcUrl: tap.url,
        deployments: "deployments",
        key: { keystore: world.agent.keystore, passwordFile: world.agent.passwordFile },
        dataDir: "agent-data",
        pollIntervalMs: 20,
        meterIntervalSeconds: 0.05,
        power: { timeoutSeconds: 5, pollMs: 10 },
        wipe: { image: "https://images.example/provider-wipe.iso", timeoutSeconds: 0.1 },
        nodes: [
          { nodeId, bmc: { url: bmc.url, username: BMC_USER, passwordFile: "bmc.password", systemId: bmc.systemId } },
        ],
      }),
    );
    supervisor = new AgentSupervisor(configPath);
    bmc.onRequest = ({ method, path }) => {
      if (method !== "GET" && !path.includes("/SessionService/")) supervisor.change();
    };
  });

  afterAll(async () => {
    await supervisor?.stop();
    tap?.server.close();
    await fleet?.close();
    await world?.close();
  });

  /** One lease from booking to a cleaned node, with the agent killed at its `killAt`-th change. */
  async function leaseWithCrashAt(killAt: number): Promise<{ leaseId: number; changes: string[] }> {
    // Past the slice the last (released) lease kept, so the current slice is free again.
    await world.provider.send("evm_increaseTime", [60]);
    await world.provider.send("evm_mine", []);
    bmc.setState({ power: "On", image: OLD_IMAGE });
    const since = bmc.requests.length;
    supervisor.arm(killAt);
    const leaseId = await bookCurrentSlice(world, nodeId, LEASE_IMAGE);
    await waitFor(
      "the lease to be provisioned",
      async () => (await world.buyer.leases.leaseOf(leaseId)).status === BigInt(LeaseStatus.Active),
      30_000,
    );
    await world.send(world.buyer.leases.release(leaseId));
    await waitFor(
      "the node to be cleaned",
      async () => (await world.buyer.leases.leaseOf(leaseId)).status === BigInt(LeaseStatus.Cleaned),
      30_000,
    );
    return { leaseId, changes: changesAt(bmc, since) };
  }

  it(
    "repeats no finished step, skips no event and ends every lease right, killed at any step",
    { timeout: 600_000 },
    async () => {
      supervisor.start();
      const baseline = await leaseWithCrashAt(0);
      // power off, eject, insert, boot once, power on, report; then power off, eject, wipe image in,
      // boot once, power on, power off after the wipe, eject, usage, cleaned.
      const steps = baseline.changes.length + 3;
      expect(baseline.changes).toHaveLength(12);

      const leases = [baseline.leaseId];
      for (let killAt = 1; killAt <= steps; killAt += 1) {
        const kills = supervisor.kills;
        const { leaseId, changes } = await leaseWithCrashAt(killAt);
        leases.push(leaseId);
        expect(supervisor.kills, `a kill at change ${killAt}`).toBe(kills + 1);
        expect(changes, `BMC changes with a kill at change ${killAt}`).toEqual(baseline.changes);
        expect(bmc.boots.slice(-2)).toEqual([
          { target: "Cd", image: LEASE_IMAGE },
          { target: "Cd", image: "https://images.example/provider-wipe.iso" },
        ]);
      }

      const events = await fetchEvents(world.provider, world.deployment, 0, "latest", {
        contract: "leases",
        events: ["LeaseCreated", "LeaseEnded", "LeaseProvisioned", "LeaseUsageReported", "LeaseCleaned"],
      });
      const count = (name: string) => events.filter((event) => event.name === name).length;
      for (const name of ["LeaseCreated", "LeaseEnded", "LeaseProvisioned", "LeaseUsageReported", "LeaseCleaned"]) {
        expect(count(name), name).toBe(leases.length);
      }

      const store = await AgentStore.open(join(world.directory, "agent-data", "agent.sqlite"));
      try {
        await waitFor("the agent to record every lease done", () =>
          store.leases().every((lease) => lease.phase === "done"),
        );
        await supervisor.stop();
        expect(store.leases().map((lease) => lease.leaseId)).toEqual(leases);
        const handled = store.handledEvents().map((e) => `${e.transactionHash}:${e.logIndex}`);
        const expected = events
          .filter((event) => event.name === "LeaseCreated" || event.name === "LeaseEnded")
          .map((event) => `${event.transactionHash}:${event.logIndex}`);
        expect(handled).toEqual(expected);
      } finally {
        store.close();
      }
    },
  );
});
