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

/** Writes `from` to `from + count - 1`, `concurrency` in flight; a write answers whether it succeeded. */
async function timed(
  from: number,
  count: number,
  concurrency: number,
  write: (i: number) => Promise<boolean>,
): Promise<{ succeeded: number; seconds: number }> {
  let next = from;
  let succeeded = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < from + count) {
        const i = next++;
        if (await write(i)) succeeded += 1;
      }
    }),
  );
  return { succeeded, seconds: (performance.now() - started) / 1000 };
}

/**
 * `count` writes each way, direct and through the gateway, in `rounds` rounds taken in turn (direct,
 * gateway, gateway, direct, ...): load from outside the benchmark (the machine may be shared) falls
 * on both alike, not on whichever would have run second. Each side's figures sum its rounds.
 */
export async function compared(
  count: number,
  rounds: number,
  concurrency: number,
  direct: (i: number) => Promise<boolean>,
  gateway: (i: number) => Promise<boolean>,
): Promise<{ direct: WriteFigures; gateway: WriteFigures }> {
  const perRound = Math.ceil(count / rounds);
  const sums = { direct: { succeeded: 0, seconds: 0 }, gateway: { succeeded: 0, seconds: 0 } };
  for (let round = 0; round < rounds; round += 1) {
    const from = round * perRound;
    const size = Math.min(perRound, count - from);
    const order = round % 2 === 0 ? (["direct", "gateway"] as const) : (["gateway", "direct"] as const);
    for (const side of order) {
      const figures = await timed(from, size, concurrency, side === "direct" ? direct : gateway);
      sums[side].succeeded += figures.succeeded;
      sums[side].seconds += figures.seconds;
    }
  }
  const figuresOf = ({ succeeded, seconds }: { succeeded: number; seconds: number }): WriteFigures => ({
    writes: count,
    succeeded,
    seconds: Number(seconds.toFixed(2)),
    tps: Number((count / seconds).toFixed(1)),
  });
  return { direct: figuresOf(sums.direct), gateway: figuresOf(sums.gateway) };
}

/** A gateway API call with a fresh `Idempotency-Key` on writes, as a careful client sends. */
export async function api<T>(
  gateway: BenchGateway,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    headers["idempotency-key"] = randomBytes(12).toString("hex");
  }
  const answer = await gateway.client.send(
    method,
    path,
    headers,
    body === undefined ? undefined : JSON.stringify(body),
  );
  return { status: answer.status, body: JSON.parse(answer.text) as T };
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
  await market.send(buyer.c.market.commitBid(bid.commitment, bid.deposit, bid.terms.roundId));
  return bid;
}

const domainOf = (deployment: Deployment) => ({ chainId: deployment.chainId, market: deployment.contracts.market });
