import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Result, type ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import {
  attach,
  deployMarket,
  eventsOfReceipt,
  MemberRole,
  PriceModel,
  parseCredits,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
  type MarketEventNamed,
} from "../../sdk/index.js";

export const HOUR = 3600;
export const CALENDAR_UNIT = 60;
/** Every world starts here: a Monday, 08:00 UTC, at the start of a round. Tests then never depend
 * on when they run (rounds, hours of day, calendar words). */
export const WORLD_START = "2026-03-02T08:00:00Z";
export const STARTING_CREDITS = parseCredits("1000");

/** A node's resources as the contracts take them. */
export const bigNode = { cores: 32, memoryGiB: 128, storageGB: 2000, networkGbps: 25, gpus: 0, arch: 1 };
export const smallNode = { cores: 2, memoryGiB: 4, storageGB: 50, networkGbps: 1, gpus: 0, arch: 1 };

export type Connection = Awaited<ReturnType<typeof network.create>>;

/** The first `count` development accounts of a connection, as a tuple. */
export async function accounts<N extends number>(
  connection: Connection,
  count: N,
): Promise<Tuple<HardhatEthersSigner, N>> {
  const signers = await connection.ethers.getSigners();
  if (signers.length < count) throw new Error(`the test network needs ${count} accounts, it has ${signers.length}`);
  return signers.slice(0, count) as Tuple<HardhatEthersSigner, N>;
}

type Tuple<T, N extends number, Acc extends T[] = []> = Acc["length"] extends N ? Acc : Tuple<T, N, [...Acc, T]>;

/** A struct returned by a contract, as a plain object of its named fields. */
export function fieldsOf(struct: object): Record<string, unknown> {
  if (!(struct instanceof Result)) throw new Error("not a decoded struct");
  return struct.toObject();
}

/**
 * A deployed market with its cast: an operator; a provider tenant whose member `seller` has
 * registered two nodes run by `agent`; two buyer tenants (`buyer`, `rival`) holding credits in
 * the market; and an `outsider` who belongs to no tenant.
 */
export interface World {
  connection: Connection;
  deployment: Deployment;
  admin: HardhatEthersSigner;
  seller: HardhatEthersSigner;
  agent: HardhatEthersSigner;
  buyer: HardhatEthersSigner;
  rival: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  /** The contracts as the admin sees them. */
  c: MarketContracts;
  /** The contracts as `signer` sends to them. */
  as: (signer: HardhatEthersSigner) => MarketContracts;
  /** Waits for a transaction and returns the market events it emitted. */
  send: Send;
  tenants: { provider: number; buyers: number; rivals: number };
  nodes: { big: number; small: number };
  /** A whole hour well after the chain's clock, so offers can start there. */
  nextHour: number;
}

export async function openWorld(
  options: {
    schedule?: { commitSeconds: number; revealSeconds: number };
    /** Where the chain's clock starts; a fixed moment by default, so every run is the same run. */
    initialDate?: string;
    /**
     * False to take a transaction that fails (out of gas, a revert) and mine it, answering its
     * hash, as a real node does; Hardhat's default answers its send with the error instead.
     */
    throwOnTransactionFailures?: boolean;
  } = {},
): Promise<World> {
  const connection = await network.create({
    override: {
      initialDate: options.initialDate ?? WORLD_START,
      ...(options.throwOnTransactionFailures === undefined
        ? {}
        : { throwOnTransactionFailures: options.throwOnTransactionFailures }),
    },
  });
  const [admin, seller, agent, buyer, rival, outsider, treasury] = await accounts(connection, 7);
  const { deployment, contracts: c } = await deployMarket(admin, {
    treasury: treasury.address,
    schedule: { ...options.schedule, penaltyBps: 1000 },
  });
  const as = (signer: HardhatEthersSigner) => attach(deployment, signer);
  const send = sender(deployment);
  const m = { c, send };

  const provider = await createTenant(m, "Rack Owners Inc");
  const buyers = await createTenant(m, "Render Farm Ltd");
  const rivals = await createTenant(m, "Climate Lab");
  await send(c.market.addMember(provider, seller.address, MemberRole.Provider | MemberRole.TenantAdmin));
  await send(c.market.addMember(buyers, buyer.address, MemberRole.Buyer));
  await send(c.market.addMember(rivals, rival.address, MemberRole.Buyer));
  for (const member of [buyer, rival]) {
    await send(c.credits.grant(member.address, STARTING_CREDITS, "welcome"));
    await send(as(member).credits["transferAndCall(address,uint256)"](deployment.contracts.market, STARTING_CREDITS));
  }
  const big = await registerNode({ c: as(seller), send }, bigNode, agent.address);
  const small = await registerNode({ c: as(seller), send }, smallNode, agent.address);

  const now = await connection.networkHelpers.time.latest();
  const nextHour = Math.ceil(now / HOUR) * HOUR + HOUR;
  return {
    connection,
    deployment,
    admin,
    seller,
    agent,
    buyer,
    rival,
    outsider,
    treasury,
    c,
    as,
    send,
    tenants: { provider, buyers, rivals },
    nodes: { big, small },
    nextHour,
  };
}

export type Send = (tx: Promise<ContractTransactionResponse>) => Promise<MarketEvent[]>;

/** Contracts as one account sends to them, with the deployment's event decoding. */
export interface Session {
  c: MarketContracts;
  send: Send;
}

export function sender(deployment: Deployment): Send {
  return async (tx) => {
    const receipt = await (await tx).wait();
    if (receipt === null) throw new Error("transaction was not mined");
    return eventsOfReceipt(deployment, receipt);
  };
}

/** The one event named `name` among `events`; fails when there is not exactly one. */
export function only<N extends MarketEvent["name"]>(events: MarketEvent[], name: N): MarketEventNamed<N> {
  const found = events.filter((event): event is MarketEventNamed<N> => event.name === name);
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}: ${names(events)}`);
  return found[0] as MarketEventNamed<N>;
}

/** The names of `events`, in order. */
export function names(events: MarketEvent[]): string[] {
  return events.map((event) => event.name);
}

export async function createTenant({ c, send }: Session, name: string): Promise<number> {
  return Number(only(await send(c.market.createTenant(name)), "TenantCreated").args.tenantId);
}

export async function registerNode(
  { c, send }: Session,
  resources: typeof bigNode,
  agent: string,
  calendarUnit = CALENDAR_UNIT,
): Promise<number> {
  return Number(
    only(await send(c.nodes.registerNode(resources, calendarUnit, agent, "rack=A1")), "NodeRegistered").args.nodeId,
  );
}

/** Offer terms with sensible defaults: a day from `start`, hour slices, 1 to 4 slices per lease. */
export function offerTerms(start: number, overrides: Partial<OfferTermsInput> = {}): OfferTermsInput {
  return {
    nodeId: 1,
    start,
    end: start + 24 * HOUR,
    sliceSeconds: HOUR,
    minSlices: 1,
    maxSlices: 4,
    fromHour: 0,
    toHour: 0,
    model: PriceModel.Fixed,
    pricePerHour: parseCredits("2"),
    surgeBps: 0,
    sealedReserve: `0x${"00".repeat(32)}`,
    ...overrides,
  };
}

export interface OfferTermsInput {
  nodeId: number;
  start: number;
  end: number;
  sliceSeconds: number;
  minSlices: number;
  maxSlices: number;
  fromHour: number;
  toHour: number;
  model: number;
  pricePerHour: bigint;
  surgeBps: number;
  sealedReserve: string;
}

export async function createOffer({ c, send }: Session, terms: OfferTermsInput): Promise<number> {
  return Number(only(await send(c.offers.createOffer(terms)), "OfferCreated").args.offerId);
}
