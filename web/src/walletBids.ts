import { Interface } from "ethers";

import {
  maxBidCost,
  sealBid,
  storeTerms,
  termsFromStore,
  type BidTerms,
  type StoredBidTerms,
} from "../../sdk/commitments";
import { paddedDeposit } from "../../sdk/deposits";
import { revealWindow, roundAt } from "../../sdk/rounds";
import { parseCredits, send, type ChainInfo, type Eip1193 } from "./wallet";

/**
 * Sealed bids signed by a wallet: the portal seals them in the browser, keeps the terms and salt
 * in this browser's storage (written before the commit is sent), and reveals and clears them in
 * their windows while the portal is open. The gateway never sees the salt.
 */
const AUCTION_CALLS = new Interface([
  "function commitBid(bytes32 commitment, uint96 deposit, uint32 roundId)",
  "function revealBid((uint32 roundId, uint32 offerId, uint16 profileId, uint32 start, uint32 duration, uint64 pricePerHour, uint32 replacesLease) terms, bytes32 salt, uint32 hint, string image) returns (uint32)",
  "function insertionHint(uint32 roundId, uint64 pricePerHour, address bidder, bytes32 commitment) view returns (uint32)",
  "function clearRound(uint32 roundId, uint256 maxBids) returns (bool)",
  "function isRoundCleared(uint32 roundId) view returns (bool)",
]);
/** Bids cleared per transaction when the portal clears a round. */
const CLEARING_CHUNK = 50;

export interface WalletBid {
  commitment: string;
  terms: StoredBidTerms;
  salt: string;
  deposit: string;
  /** The image a lease the bid wins boots: revealed with the bid, so the lease has it from the start. */
  image: string;
  state: "committed" | "revealed" | "cleared" | "missed";
}

const storageKey = (address: string) => `metalmarket.walletBids.${address.toLowerCase()}`;

export function walletBids(address: string): WalletBid[] {
  return JSON.parse(localStorage.getItem(storageKey(address)) ?? "[]") as WalletBid[];
}

function keep(address: string, bid: WalletBid): void {
  const others = walletBids(address).filter((b) => b.commitment !== bid.commitment);
  localStorage.setItem(storageKey(address), JSON.stringify([...others, bid]));
}

async function chainNow(wallet: Eip1193): Promise<number> {
  const block = (await wallet.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
    timestamp: string;
  };
  return Math.max(Number(block.timestamp), Math.floor(Date.now() / 1000));
}

async function read(wallet: Eip1193, to: string, data: string): Promise<string> {
  return (await wallet.request({ method: "eth_call", params: [{ to, data }, "latest"] })) as string;
}

/**
 * Seals a bid in the current round and commits it from the wallet. Its deposit is padded to the
 * bid's bucket (`paddedDeposit`) within what the wallet can spend, so that it does not give the
 * price away; `fund` is asked to make that deposit available in the market first.
 */
export async function commitWithWallet(options: {
  wallet: Eip1193;
  chain: ChainInfo;
  from: string;
  offerId: number;
  start: number;
  durationSeconds: number;
  pricePerHour: string;
  image: string;
  /** Credits the wallet can spend: available in the market plus held in the wallet. */
  spendable: bigint;
  fund: (deposit: bigint) => Promise<void>;
}): Promise<WalletBid> {
  const { wallet, chain, from } = options;
  const terms: BidTerms = {
    roundId: roundAt(chain.schedule, await chainNow(wallet)),
    offerId: options.offerId,
    profileId: 0,
    start: options.start,
    duration: options.durationSeconds,
    pricePerHour: parseCredits(options.pricePerHour),
    replacesLease: 0,
  };
  const deposit = paddedDeposit(maxBidCost(terms), options.spendable);
  const sealed = sealBid({ chainId: chain.chainId, market: chain.contracts.market }, from, terms, deposit);
  const bid: WalletBid = {
    commitment: sealed.commitment,
    terms: storeTerms(terms),
    salt: sealed.salt,
    deposit: String(sealed.deposit),
    image: options.image,
    state: "committed",
  };
  keep(from, bid);
  await options.fund(deposit);
  await send(
    wallet,
    from,
    chain.contracts.market,
    AUCTION_CALLS.encodeFunctionData("commitBid", [sealed.commitment, sealed.deposit, terms.roundId]),
  );
  return bid;
}

/** Reveals the wallet's bids whose reveal window is open, and clears their rounds once it closes. */
export async function advanceWalletBids(wallet: Eip1193, chain: ChainInfo, from: string): Promise<boolean> {
  const now = await chainNow(wallet);
  let changed = false;
  for (const bid of walletBids(from)) {
    const terms = termsFromStore(bid.terms);
    const { opensAt, closesAt } = revealWindow(chain.schedule, terms.roundId);
    const market = chain.contracts.market;
    if (bid.state === "committed" && now >= closesAt) {
      keep(from, { ...bid, state: "missed" });
      changed = true;
    } else if (bid.state === "committed" && now >= opensAt) {
      const [hint] = AUCTION_CALLS.decodeFunctionResult(
        "insertionHint",
        await read(
          wallet,
          market,
          AUCTION_CALLS.encodeFunctionData("insertionHint", [terms.roundId, terms.pricePerHour, from, bid.commitment]),
        ),
      );
      await send(
        wallet,
        from,
        market,
        AUCTION_CALLS.encodeFunctionData("revealBid", [terms, bid.salt, hint, bid.image]),
      );
      keep(from, { ...bid, state: "revealed" });
      changed = true;
    } else if (bid.state === "revealed" && now >= closesAt) {
      const cleared = async () =>
        AUCTION_CALLS.decodeFunctionResult(
          "isRoundCleared",
          await read(wallet, market, AUCTION_CALLS.encodeFunctionData("isRoundCleared", [terms.roundId])),
        )[0] as boolean;
      while (!(await cleared())) {
        await send(
          wallet,
          from,
          market,
          AUCTION_CALLS.encodeFunctionData("clearRound", [terms.roundId, CLEARING_CHUNK]),
        );
      }
      keep(from, { ...bid, state: "cleared" });
      changed = true;
    }
  }
  return changed;
}
