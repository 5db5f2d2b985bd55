import type { JsonRpcSigner } from "ethers";

import { MemberRole, parseCredits } from "../../../sdk/index.js";
import { batchBookerFactory, batchCall } from "./batch-booker.js";
import { HOUR, IMAGE, type BenchMarket } from "./market.js";

/** A booking emits CreditsEscrowed, LeaseCreated, LeaseImageSet and OfferBooked. */
const EVENTS_PER_BOOKING = 4;
/** Seed buyers: contracts booking a slice on every seed node per transaction. */
const SEED_BUYERS = 8;
/** The chain's accounts that send the seed buyers' transactions (signed by the node; apart from the SDK buyers'). */
const FIRST_SENDER = 10;
/** Batches in flight: enough to keep the chain busy while the receipts of others are read. */
const IN_FLIGHT = 16;
/** Gas per booking a batch may use; a batch of 60 stays under the 2^24 a transaction may use (EIP-7825). */
const GAS_PER_BOOKING = 250_000;
/** Offers run this much longer than their bookings, so some windows searched are free. */
const OFFER_SLACK = 1.25;

export interface Seeded {
  /** Events the market holds after seeding, setup included. */
  events: number;
  bookings: number;
  seconds: number;
  /** The seed buyers' accounts: what the audit's account filter asks for. */
  accounts: string[];
  nodes: number;
  /** Where the seed offers start, and for how many hours they run. */
  windowStart: number;
  offerHours: number;
}

interface RawReceipt {
  status: string;
  logs: unknown[];
}

/**
 * Books hourly slices on `nodes` nodes, from their offers' start onwards, until the market holds at
 * least `minEvents` events. Each transaction books one hour on every node through a seed buyer
 * (`BatchBooker`), sent and signed by the node, several in flight: a booking costs about 200,000
 * gas, and the chain's per-transaction work, not the gas, is what bounds one booking per transaction.
 */
export async function seedBookings(
  market: BenchMarket,
  options: { minEvents: number; nodes: number; log(line: string): void },
): Promise<Seeded> {
  const { provider, deployment, op } = market;
  const senders = await Promise.all(
    Array.from({ length: SEED_BUYERS }, (_, i) => provider.getSigner(FIRST_SENDER + i) as Promise<JsonRpcSigner>),
  );
  const factory = await batchBookerFactory(senders[0] as JsonRpcSigner);
  const accounts: string[] = [];
  const credits = parseCredits("100000000");
  const deposit = op.credits.interface.encodeFunctionData("transferAndCall(address,uint256)", [
    deployment.contracts.market,
    credits,
  ]);
  for (const sender of senders) {
    const booker = await (await factory.connect(sender).deploy()).waitForDeployment();
    const address = (await booker.getAddress()).toLowerCase();
    await market.send(op.market.addMember(market.buyerTenant, address, MemberRole.Buyer));
    await market.send(op.credits.grant(address, credits, "bench seed"));
    await (
      await sender.sendTransaction({ to: address, data: batchCall(deployment.contracts.credits, [deposit]) })
    ).wait();
    accounts.push(address);
  }

  let events = (await provider.getLogs({ fromBlock: 0, address: Object.values(deployment.contracts) })).length;
  const hours = Math.ceil(Math.max(0, options.minEvents - events) / EVENTS_PER_BOOKING / options.nodes);
  const offerHours = Math.ceil((hours * OFFER_SLACK) / 24) * 24 + 24;
  const windowStart = await market.nextHour();
  options.log(`seeding at least ${options.minEvents} events of bookings on ${options.nodes} nodes ...`);
  const offers = await market.listNodes(options.nodes, offerHours / 24, windowStart);
  events += 2 * options.nodes;

  const started = performance.now();
  const gas = `0x${(GAS_PER_BOOKING * options.nodes).toString(16)}`;
  const price = parseCredits("2");
  let hour = 0;
  let reported = 0;
  const bookHour = async (): Promise<void> => {
    const start = windowStart + hour * HOUR;
    const k = hour % SEED_BUYERS;
    hour += 1;
    const calls = offers.map((offerId) =>
      op.offers.interface.encodeFunctionData("bookInstant", [offerId, start, 1, price, 0, IMAGE]),
    );
    const hash = (await provider.send("eth_sendTransaction", [
      {
        from: await senders[k]?.getAddress(),
        to: accounts[k],
        data: batchCall(deployment.contracts.offers, calls),
        gas,
      },
    ])) as string;
    const receipt = (await provider.send("eth_getTransactionReceipt", [hash])) as RawReceipt | null;
    if (receipt?.status !== "0x1") throw new Error(`seed booking ${hash} failed`);
    events += receipt.logs.length;
  };
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (events < options.minEvents) {
        if (hour >= offerHours - 24) throw new Error("the seed offers are full");
        await bookHour();
        if (events - reported >= 50_000) {
          reported = events;
          options.log(`  ${events} events`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const bookings = hour * options.nodes;
  options.log(`  ${events} events: ${bookings} bookings in ${seconds.toFixed(1)} s`);
  return { events, bookings, seconds, accounts, nodes: options.nodes, windowStart, offerHours };
}
