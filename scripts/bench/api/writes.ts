import { randomBytes } from "node:crypto";

import { parseCredits, sealBid, type BidTerms, type Deployment, type SealedBid } from "../../../sdk/index.js";
import type { BenchGateway } from "./gateway.js";
import { IMAGE, type BenchMarket, type Buyer } from "./market.js";

export interface WriteFigures {
  writes: number;
  succeeded: number;
  seconds: number;
  tps: number;
}

/** `count` writes, `concurrency` in flight; a write answers whether it succeeded. */
export async function timed(
  count: number,
  concurrency: number,
  write: (i: number) => Promise<boolean>,
): Promise<WriteFigures> {
  let next = 0;
  let ok = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        if (await write(i)) ok += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    writes: count,
    succeeded: ok,
    seconds: Number(seconds.toFixed(2)),
    tps: Number((count / seconds).toFixed(1)),
  };
}

/** A gateway API call with a fresh `Idempotency-Key` on writes, as a careful client sends. */
export async function api<T>(
  gateway: BenchGateway,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(gateway.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined
        ? {}
        : { "content-type": "application/json", "idempotency-key": randomBytes(12).toString("hex") }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** An SDK user's instant booking of one slice, straight to the chain. */
export async function bookDirect(market: BenchMarket, buyer: Buyer, offerId: number, start: number): Promise<void> {
  await market.send(buyer.c.offers.bookInstant(offerId, start, 1, parseCredits("2"), 0, IMAGE));
}

/**
 * An SDK user's sealed-bid commit, straight to the chain: the one place the benchmark calls
 * `commitBid`, so a change to its arguments is a change here alone.
 */
export async function commitDirect(
  market: BenchMarket,
  buyer: Buyer,
  terms: BidTerms,
  deposit: bigint,
): Promise<SealedBid> {
  const bid = sealBid(domainOf(market.deployment), buyer.address, terms, deposit);
  await market.send(buyer.c.market.commitBid(bid.commitment, bid.deposit));
  return bid;
}

const domainOf = (deployment: Deployment) => ({ chainId: deployment.chainId, market: deployment.contracts.market });
