import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { JsonRpcProvider, JsonRpcSigner } from "ethers";
import { network } from "hardhat";

import {
  ManagedSigner,
  MemberRole,
  PriceModel,
  attach,
  createKeystore,
  createProvider,
  deployMarket,
  eventsOfReceipt,
  parseCredits,
  writeDeployment,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
} from "../../sdk/index.js";

/** Cheap scrypt for throwaway local keystores: a restart-heavy test decrypts the key many times. */
const LOCAL_SCRYPT_N = 1 << 10;
/** A machine like the DMTF reference server, as the simulator reports it. */
const LOCAL_NODE = { cores: 16, memoryGiB: 96, storageGB: 12_000, networkGbps: 10, gpus: 0, arch: 1 };

/**
 * A market on a local EDR chain served over JSON-RPC, for tests and benchmarks whose parts talk
 * over real HTTP: an operator, a provider tenant (`seller`), a buyer with credits, and an agent
 * account whose key is an encrypted keystore in the scratch `directory`.
 */
export interface LocalMarket {
  rpcUrl: string;
  provider: JsonRpcProvider;
  directory: string;
  deployment: Deployment;
  agent: { address: string; keystore: string; passwordFile: string };
  seller: MarketContracts;
  buyer: MarketContracts;
  send(tx: Promise<{ wait(): Promise<{ logs: readonly unknown[] } | null> }>): Promise<MarketEvent[]>;
  /** Registers a node of the provider, operated by the agent account. */
  registerNode(): Promise<number>;
  close(): Promise<void>;
}

export async function openLocalMarket(): Promise<LocalMarket> {
  const server = await network.createServer("hardhat", "127.0.0.1", 0);
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const provider = createProvider(rpcUrl);
  const signer = async (index: number) => new ManagedSigner((await provider.getSigner(index)) as JsonRpcSigner);
  const [admin, seller, buyer, funder] = await Promise.all([0, 1, 2, 3].map(signer));
  if (admin === undefined || seller === undefined || buyer === undefined || funder === undefined)
    throw new Error("too few accounts");

  const directory = await mkdtemp(join(tmpdir(), "metalmarket-"));
  const { deployment, contracts } = await deployMarket(admin, {});
  await writeDeployment(deployment, join(directory, "deployments"));
  const send: LocalMarket["send"] = async (tx) => {
    const receipt = await (await tx).wait();
    if (receipt === null) throw new Error("transaction was not mined");
    return eventsOfReceipt(deployment, receipt as Parameters<typeof eventsOfReceipt>[1]);
  };

  const passwordFile = join(directory, "agent.password");
  await writeFile(passwordFile, "test agent keystore password\n", { mode: 0o600 });
  const keystore = join(directory, "agent.keystore.json");
  const agentAddress = await createKeystore(keystore, "test agent keystore password", { scryptN: LOCAL_SCRYPT_N });
  await (await funder.sendTransaction({ to: agentAddress, value: 10n ** 20n })).wait();

  const operator = contracts;
  const provided = Number(tenantOf(await send(operator.market.createTenant("Rack Owners Inc"))));
  const buying = Number(tenantOf(await send(operator.market.createTenant("Render Farm Ltd"))));
  await send(
    operator.market.addMember(provided, await seller.getAddress(), MemberRole.Provider | MemberRole.TenantAdmin),
  );
  await send(operator.market.addMember(buying, await buyer.getAddress(), MemberRole.Buyer));
  const credits = parseCredits("10000");
  await send(operator.credits.grant(await buyer.getAddress(), credits, "welcome"));
  const asBuyer = attach(deployment, buyer);
  await send(asBuyer.credits["transferAndCall(address,uint256)"](deployment.contracts.market, credits));
  const asSeller = attach(deployment, seller);

  return {
    rpcUrl,
    provider,
    directory,
    deployment,
    agent: { address: agentAddress, keystore, passwordFile },
    seller: asSeller,
    buyer: asBuyer,
    send,
    async registerNode() {
      const events = await send(asSeller.nodes.registerNode(LOCAL_NODE, 5, agentAddress, "rack=B2"));
      const registered = events.find((event) => event.name === "NodeRegistered");
      if (registered === undefined) throw new Error("no NodeRegistered event");
      return Number(registered.args.nodeId);
    },
    async close() {
      provider.destroy();
      await server.close();
    },
  };
}

/** An offer as booked here: its id, where its slices start, and how long they are. */
export interface LocalOffer {
  offerId: bigint;
  start: number;
  sliceSeconds: number;
}

/** A fixed-price offer on `nodeId` from the slice under way, for the next 600 slices. */
export async function offerNow(world: LocalMarket, nodeId: number, sliceSeconds = 60): Promise<LocalOffer> {
  const head = await world.provider.getBlock("latest");
  if (head === null) throw new Error("no head block");
  const start = Math.floor(head.timestamp / sliceSeconds) * sliceSeconds;
  const offered = await world.send(
    world.seller.offers.createOffer({
      nodeId,
      start,
      end: start + 600 * sliceSeconds,
      sliceSeconds,
      minSlices: 1,
      // A lease may span at most 8,192 calendar units of 5 s.
      maxSlices: Math.min(600, Math.floor((8192 * 5) / sliceSeconds)),
      fromHour: 0,
      toHour: 0,
      model: PriceModel.Fixed,
      pricePerHour: parseCredits("1"),
      surgeBps: 0,
      sealedReserve: `0x${"00".repeat(32)}`,
    }),
  );
  const offer = offered.find((event) => event.name === "OfferCreated");
  if (offer === undefined) throw new Error("no OfferCreated event");
  return { offerId: offer.args.offerId, start, sliceSeconds };
}

/** Sends the buyer's booking from the offer's slice under way, without waiting for it to be mined. */
export async function sendBooking(world: LocalMarket, offer: LocalOffer, image: string, slices = 30) {
  const { sliceSeconds } = offer;
  // The head may be old when blocks are not mined at once; the local chain's clock is the wall clock.
  const now = Math.max((await world.provider.getBlock("latest"))?.timestamp ?? 0, Math.floor(Date.now() / 1000));
  const slice = offer.start + Math.floor((now + 1 - offer.start) / sliceSeconds) * sliceSeconds;
  return world.buyer.offers.bookInstant(offer.offerId, slice, slices, parseCredits("1"), 0, image);
}

/** Offers `nodeId` and books its slice under way; answers the lease id. */
export async function bookCurrentSlice(world: LocalMarket, nodeId: number, image: string): Promise<number> {
  const booked = await world.send(sendBooking(world, await offerNow(world, nodeId), image));
  const lease = booked.find((event) => event.name === "LeaseCreated");
  if (lease === undefined) throw new Error("no LeaseCreated event");
  return Number(lease.args.leaseId);
}

function tenantOf(events: MarketEvent[]): bigint {
  const created = events.find((event) => event.name === "TenantCreated");
  if (created === undefined) throw new Error("no TenantCreated event");
  return created.args.tenantId;
}
