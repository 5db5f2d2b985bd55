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
import { bigNode } from "./world.js";

/** Cheap scrypt for test keystores: a restart-heavy test decrypts the key many times. */
const TEST_SCRYPT_N = 1 << 10;

/**
 * A market on a chain served over JSON-RPC, for tests whose parts run as separate processes: an
 * operator, a provider whose `seller` registered `nodes`, a buyer with credits, and an agent account
 * whose key is an encrypted keystore in `directory`.
 */
export interface ProcessWorld {
  rpcUrl: string;
  provider: JsonRpcProvider;
  directory: string;
  deployment: Deployment;
  agent: { address: string; keystore: string; passwordFile: string };
  seller: MarketContracts;
  buyer: MarketContracts;
  send(tx: Promise<{ wait(): Promise<{ logs: readonly unknown[] } | null> }>): Promise<MarketEvent[]>;
  registerNode(): Promise<number>;
  close(): Promise<void>;
}

export async function openProcessWorld(): Promise<ProcessWorld> {
  const server = await network.createServer("hardhat", "127.0.0.1", 0);
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const provider = createProvider(rpcUrl);
  const signer = async (index: number) => new ManagedSigner((await provider.getSigner(index)) as JsonRpcSigner);
  const [admin, seller, buyer, funder] = await Promise.all([0, 1, 2, 3].map(signer));
  if (admin === undefined || seller === undefined || buyer === undefined || funder === undefined) throw new Error("too few accounts");

  const directory = await mkdtemp(join(tmpdir(), "metalmarket-"));
  const { deployment, contracts } = await deployMarket(admin, {});
  await writeDeployment(deployment, join(directory, "deployments"));
  const send: ProcessWorld["send"] = async (tx) => {
    const receipt = await (await tx).wait();
    if (receipt === null) throw new Error("transaction was not mined");
    return eventsOfReceipt(deployment, receipt as Parameters<typeof eventsOfReceipt>[1]);
  };

  const passwordFile = join(directory, "agent.password");
  await writeFile(passwordFile, "test agent keystore password\n", { mode: 0o600 });
  const keystore = join(directory, "agent.keystore.json");
  const agentAddress = await createKeystore(keystore, "test agent keystore password", { scryptN: TEST_SCRYPT_N });
  await (await funder.sendTransaction({ to: agentAddress, value: 10n ** 20n })).wait();

  const operator = contracts;
  const provided = Number(tenantOf(await send(operator.market.createTenant("Rack Owners Inc"))));
  const buying = Number(tenantOf(await send(operator.market.createTenant("Render Farm Ltd"))));
  await send(operator.market.addMember(provided, await seller.getAddress(), MemberRole.Provider | MemberRole.TenantAdmin));
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
      const events = await send(asSeller.nodes.registerNode(bigNode, 5, agentAddress, "rack=B2"));
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

/** A fixed-price offer on `nodeId` over the next hours, in `sliceSeconds` slices, and a booking of its current slice. */
export async function bookCurrentSlice(world: ProcessWorld, nodeId: number, image: string, sliceSeconds = 60): Promise<number> {
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
      maxSlices: 600,
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
  const now = (await world.provider.getBlock("latest"))?.timestamp ?? head.timestamp;
  const slice = start + Math.floor((now + 1 - start) / sliceSeconds) * sliceSeconds;
  const booked = await world.send(world.buyer.offers.bookInstant(offer.args.offerId, slice, 30, parseCredits("1"), 0, image));
  const lease = booked.find((event) => event.name === "LeaseCreated");
  if (lease === undefined) throw new Error("no LeaseCreated event");
  return Number(lease.args.leaseId);
}

function tenantOf(events: MarketEvent[]): bigint {
  const created = events.find((event) => event.name === "TenantCreated");
  if (created === undefined) throw new Error("no TenantCreated event");
  return created.args.tenantId;
}
