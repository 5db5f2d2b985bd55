import { spawn, type ChildProcess } from "node:child_process";

import { HDNodeWallet, Wallet, type JsonRpcProvider, type JsonRpcSigner } from "ethers";

import {
  ManagedSigner,
  MemberRole,
  PriceModel,
  attach,
  deployMarket,
  eventsOfReceipt,
  parseCredits,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
} from "../../../sdk/index.js";

export const MNEMONIC = "test test test test test test test test test test test junk";
export const HOUR = 3600;
export const DAY = 24 * HOUR;
export const IMAGE = "https://images.example/ubuntu-24.04-server.iso";
const NODE = { cores: 16, memoryGiB: 64, storageGB: 1000, networkGbps: 10, gpus: 0, arch: 1 };

/** The key of the chain's account `index` (the node's accounts come from `MNEMONIC`). */
export function keyOf(index: number): string {
  return HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
}

/**
 * The chain as a process of its own, as a real node would be: the load the benchmark sends is
 * then not served from the same event loop as the chain. Resolves once it listens on `port`.
 */
export async function startChain(port: number): Promise<ChildProcess> {
  const chain = spawn(process.execPath, ["node_modules/hardhat/dist/src/cli.js", "run", "scripts/bench/chain.ts"], {
    env: { ...process.env, CHAIN_PORT: String(port) },
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
  return chain;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

type Sendable = Promise<{ wait(): Promise<unknown> }>;

/** An SDK user: a wallet of their own (signing here, as an SDK user's key does), a buyer with credits. */
export interface Buyer {
  signer: ManagedSigner;
  address: string;
  c: MarketContracts;
}

/** The market the benchmark runs against: deployed, with a provider tenant, a seller and buyers. */
export interface BenchMarket {
  provider: JsonRpcProvider;
  deployment: Deployment;
  /** The operator's contracts (admin of everything). */
  op: MarketContracts;
  buyerTenant: number;
  buyers: Buyer[];
  /** Waits for a transaction and gives the market events it emitted. */
  send(tx: Sendable): Promise<MarketEvent[]>;
  /** Lists `count` nodes, each with a fixed-price offer of hourly slices `days` long from `from`. */
  listNodes(count: number, days: number, from: number): Promise<number[]>;
  /** The next whole hour but one on the chain's clock, which runs ahead of the wall clock here. */
  nextHour(): Promise<number>;
}

/** Deploys the market and sets up `buyers` funded buyers (the chain's accounts 2, 3, ...) and a seller (1). */
export async function setUpMarket(provider: JsonRpcProvider, buyerCount: number): Promise<BenchMarket> {
  const operator = new ManagedSigner((await provider.getSigner(0)) as JsonRpcSigner);
  const genesis = (await provider.getBlock("latest"))?.timestamp ?? 0;
  // Automining gives every transaction its own block, a second apart at least, so the chain's clock
  // runs far ahead of the wall clock here: rounds a week long keep every bid commit in one round.
  const { deployment, contracts: op } = await deployMarket(operator, {
    schedule: { genesis, commitSeconds: 7 * DAY, revealSeconds: DAY },
  });
  const send = async (tx: Sendable) =>
    eventsOfReceipt(deployment, (await (await tx).wait()) as Parameters<typeof eventsOfReceipt>[1]);
  const created = async (tx: Sendable, name: MarketEvent["name"], arg: string) => {
    const event = (await send(tx)).find((e) => e.name === name);
    if (event === undefined) throw new Error(`no ${name}`);
    return Number((event.args as unknown as Record<string, unknown>)[arg]);
  };

  const providerTenant = await created(op.market.createTenant("Bench Racks"), "TenantCreated", "tenantId");
  const buyerTenant = await created(op.market.createTenant("Bench Buyers"), "TenantCreated", "tenantId");
  const seller = new ManagedSigner((await provider.getSigner(1)) as JsonRpcSigner);
  const sellerAddress = await seller.getAddress();
  await send(op.market.addMember(providerTenant, sellerAddress, MemberRole.Provider | MemberRole.TenantAdmin));
  const sellerMarket = attach(deployment, seller);

  const buyers: Buyer[] = [];
  for (let i = 0; i < buyerCount; i += 1) {
    // Buyers sign their own transactions, as an SDK user does with a key of their own; the node's
    // accounts would sign inside the chain and hide that work.
    const signer = new ManagedSigner(new Wallet(keyOf(2 + i), provider));
    const address = await signer.getAddress();
    await send(op.market.addMember(buyerTenant, address, MemberRole.Buyer));
    const c = attach(deployment, signer);
    const credits = parseCredits("100000000");
    await send(op.credits.grant(address, credits, "bench"));
    await send(c.credits["transferAndCall(address,uint256)"](deployment.contracts.market, credits));
    buyers.push({ signer, address, c });
  }

  let listed = 0;
  async function listNodes(count: number, days: number, from: number): Promise<number[]> {
    const offers: number[] = [];
    for (let i = 0; i < count; i += 1) {
      listed += 1;
      const nodeId = await created(
        sellerMarket.nodes.registerNode(NODE, 60, sellerAddress, `rack=B${listed}`),
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

  async function nextHour(): Promise<number> {
    const now = (await provider.getBlock("latest"))?.timestamp ?? 0;
    return Math.ceil(now / HOUR) * HOUR + HOUR;
  }

  return { provider, deployment, op, buyerTenant, buyers, send, listNodes, nextHour };
}
