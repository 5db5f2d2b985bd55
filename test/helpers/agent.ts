import {
  AbstractSigner,
  type Provider,
  type Signer,
  type TransactionRequest,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { BmcFleet, type FleetOptions } from "../../oracle/bmc-sim/fleet.js";
import type { SimulatedBmc } from "../../oracle/bmc-sim/bmc.js";
import { ProviderAgent, type AgentOptions, type OperatedNode } from "../../oracle/agent/agent.js";
import { AgentStore, type LeaseRow } from "../../oracle/agent/store.js";
import { ManagedSigner, PriceModel, attach, parseCredits } from "../../sdk/index.js";
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

/**
 * A running agent for the world's `agent` account (or `signer`, which signs for it), over an
 * in-memory store. It sends through a `ManagedSigner`, as `market agent run` does.
 */
export async function startAgent(
  world: World,
  nodes: OperatedNode[],
  options: Partial<AgentOptions> = {},
  signer: Signer = world.agent,
) {
  const store = await AgentStore.open(":memory:");
  const agent = new ProviderAgent({
    provider: world.connection.ethers.provider,
    deployment: world.deployment,
    contracts: attach(world.deployment, new ManagedSigner(signer)),
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

/**
 * A signer that meddles with the first transaction it sends to `selector` (a function's selector):
 * `meddle` may change it (too little gas) or act before it goes (another account settles the
 * lease). Behind a `ManagedSigner`, it stands where the node would be: the meddled transaction is
 * sent after the estimate, and `meddled` is its hash.
 */
export class MeddlingSigner extends AbstractSigner {
  meddled: string | undefined;
  readonly #inner: Signer;
  readonly #selector: string;
  readonly #meddle: (tx: TransactionRequest) => Promise<TransactionRequest>;

  constructor(inner: Signer, selector: string, meddle: (tx: TransactionRequest) => Promise<TransactionRequest>) {
    super(inner.provider);
    this.#inner = inner;
    this.#selector = selector;
    this.#meddle = meddle;
  }

  override getAddress(): Promise<string> {
    return this.#inner.getAddress();
  }

  override connect(provider: Provider | null): MeddlingSigner {
    return new MeddlingSigner(this.#inner.connect(provider), this.#selector, this.#meddle);
  }

  override signTransaction(tx: TransactionRequest): Promise<string> {
    return this.#inner.signTransaction(tx);
  }

  override signMessage(message: string | Uint8Array): Promise<string> {
    return this.#inner.signMessage(message);
  }

  override signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.#inner.signTypedData(domain, types, value);
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const mine = this.meddled === undefined && typeof tx.data === "string" && tx.data.startsWith(this.#selector);
    const response = await this.#inner.sendTransaction(mine ? await this.#meddle(tx) : tx);
    if (mine) this.meddled = response.hash;
    return response;
  }
}
