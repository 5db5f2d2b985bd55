import { BmcFleet, type FleetOptions } from "../../oracle/bmc-sim/fleet.js";
import type { SimulatedBmc } from "../../oracle/bmc-sim/bmc.js";
import { ProviderAgent, type AgentOptions, type OperatedNode } from "../../oracle/agent/agent.js";
import { AgentStore, type LeaseRow } from "../../oracle/agent/store.js";
import { PriceModel, parseCredits } from "../../sdk/index.js";
import { waitFor } from "./wait.js";
import { CALENDAR_UNIT, createOffer, offerTerms, only, type World } from "./world.js";

export const BMC_USER = "metal-operator";
export const BMC_PASSWORD = "correct horse battery staple";
export const LEASE_IMAGE = "https://images.example/ubuntu-24.04-server.iso";
export const WIPE_IMAGE = "https://images.example/provider-wipe.iso";
export const SLICE_SECONDS = CALENDAR_UNIT;

/** Agent settings that make a test's leases move in milliseconds, not minutes. */
export const FAST_AGENT: Partial<AgentOptions> = {
  pollIntervalMs: 10,
  meterIntervalMs: 40,
  stepAttempts: 2,
  stepBackoffMs: 10,
  retryLaterMs: 100,
  power: { timeoutMs: 1_000, pollMs: 10 },
  wipe: { image: WIPE_IMAGE, timeoutMs: 60 },
};

export function startFleet(count: number, options: Partial<FleetOptions> = {}): Promise<BmcFleet> {
  return BmcFleet.start({
    count,
    username: BMC_USER,
    password: BMC_PASSWORD,
    behaviour: { powerTransitionMs: 15 },
    initial: { power: "On" },
    ...options,
  });
}

/** How the agent reaches `bmc` as node `nodeId`. */
export function operated(nodeId: number, bmc: SimulatedBmc): OperatedNode {
  return {
    nodeId,
    bmc: {
      url: bmc.url,
      systemId: bmc.systemId,
      credentials: { username: BMC_USER, password: BMC_PASSWORD },
      timeoutMs: 2_000,
      retry: { retries: 1, backoffMs: 10 },
    },
  };
}

/** A running agent for the world's `agent` account, over an in-memory store. */
export async function startAgent(world: World, nodes: OperatedNode[], options: Partial<AgentOptions> = {}) {
  const store = await AgentStore.open(":memory:");
  const agent = new ProviderAgent({
    provider: world.connection.ethers.provider,
    deployment: world.deployment,
    contracts: world.as(world.agent),
    store,
    nodes,
    options: { ...FAST_AGENT, ...options },
  });
  await agent.start();
  return { agent, store };
}

/** A fixed-price offer on `nodeId` from the current minute, in one-minute slices. */
export async function listNow(world: World, nodeId: number): Promise<{ offerId: number; start: number }> {
  const now = await world.connection.networkHelpers.time.latest();
  const start = Math.floor(now / SLICE_SECONDS) * SLICE_SECONDS;
  const terms = offerTerms(start, {
    nodeId,
    end: start + 240 * SLICE_SECONDS,
    sliceSeconds: SLICE_SECONDS,
    maxSlices: 120,
    model: PriceModel.Fixed,
    pricePerHour: parseCredits("6"),
  });
  return { offerId: await createOffer({ c: world.as(world.seller), send: world.send }, terms), start };
}

/** Books `slices` slices of the offer from the slice under way, with `image`. */
export async function bookNow(
  world: World,
  offer: { offerId: number; start: number },
  slices: number,
  image = LEASE_IMAGE,
): Promise<number> {
  const now = await world.connection.networkHelpers.time.latest();
  const start = offer.start + Math.floor((now + 1 - offer.start) / SLICE_SECONDS) * SLICE_SECONDS;
  const events = await world.send(
    world.as(world.buyer).offers.bookInstant(offer.offerId, start, slices, parseCredits("6"), 0, image),
  );
  return Number(only(events, "LeaseCreated").args.leaseId);
}

/** Waits until the store has lease `leaseId` in `phase`. */
export function waitForPhase(
  store: AgentStore,
  leaseId: number,
  phase: LeaseRow["phase"],
  timeoutMs?: number,
): Promise<LeaseRow> {
  return waitFor(
    `lease ${leaseId} to be ${phase}`,
    () => {
      const lease = store.lease(leaseId);
      return lease?.phase === phase ? lease : undefined;
    },
    timeoutMs,
  );
}
