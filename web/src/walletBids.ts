import { Interface } from "ethers";

import { nextBlockTime, type ChainNow } from "../../sdk/chain-clock";
import { clearRoundInChunks } from "../../sdk/clearing";
import {
  maxBidCost,
  sealBid,
  storeTerms,
  termsFromStore,
  type BidTerms,
  type StoredBidTerms,
} from "../../sdk/commitments";
import { paddedDeposit } from "../../sdk/deposits";
import { advanceSealedBids, commitRound, type SealedPass, type SealedState } from "../../sdk/sealed-lifecycle";
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
/** Bids a clearing transaction is first tried with; `clearingChunk` halves it to fit the block. */
const CLEARING_CHUNK = 64;

export interface WalletBid {
  commitment: string;
  terms: StoredBidTerms;
  salt: string;
  deposit: string;
  /** The image a lease the bid wins boots: revealed with the bid, so the lease has it from the start. */
  image: string;
  state: SealedState;
}

const storageKey = (address: string) => `metalmarket.walletBids.${address.toLowerCase()}`;

export function walletBids(address: string): WalletBid[] {
  return JSON.parse(localStorage.getItem(storageKey(address)) ?? "[]") as WalletBid[];
}

function keep(address: string, bid: WalletBid): void {
  const others = walletBids(address).filter((b) => b.commitment !== bid.commitment);
  localStorage.setItem(storageKey(address), JSON.stringify([...others, bid]));
}

async function chainNow(wallet: Eip1193, chain: ChainInfo): Promise<ChainNow> {
  const block = (await wallet.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
    timestamp: string;
  };
  const head = Number(block.timestamp);
  return { head, blockSeconds: chain.blockSeconds, next: nextBlockTime(head, chain.blockSeconds) };
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
    roundId: commitRound(chain.schedule, await chainNow(wallet, chain)),
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

/**
 * One pass of the sdk's sealed-bid lifecycle over this browser's bids: reveals those whose window
 * is open, marks those that can no longer make it `missed`, and clears their rounds once the
 * window closes (chunks sized by the wallet's estimates, as every client sizes them).
 */
export async function advanceWalletBids(
  wallet: Eip1193,
  chain: ChainInfo,
  from: string,
): Promise<SealedPass<WalletBid>> {
  const market = chain.contracts.market;
  const call = async (name: string, args: unknown[]) =>
    AUCTION_CALLS.decodeFunctionResult(
      name,
      await read(wallet, market, AUCTION_CALLS.encodeFunctionData(name, args)),
    )[0] as unknown;
  const blockGasLimit = async () => {
    const block = (await wallet.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
      gasLimit: string;
    };
    return BigInt(block.gasLimit);
  };
  return advanceSealedBids({ list: () => walletBids(from), save: (bid) => keep(from, bid) }, chain.schedule, {
    now: () => chainNow(wallet, chain),
    reveal: async (bid) => {
      const terms = termsFromStore(bid.terms);
      const hint = await call("insertionHint", [terms.roundId, terms.pricePerHour, from, bid.commitment]);
      await send(
        wallet,
        from,
        market,
        AUCTION_CALLS.encodeFunctionData("revealBid", [terms, bid.salt, hint, bid.image]),
      );
    },
    clear: (roundId) =>
      clearRoundInChunks(
        {
          isCleared: async () => (await call("isRoundCleared", [roundId])) as boolean,
          estimate: async (maxBids) =>
            BigInt(
              (await wallet.request({
                method: "eth_estimateGas",
                params: [
                  { from, to: market, data: AUCTION_CALLS.encodeFunctionData("clearRound", [roundId, maxBids]) },
                ],
              })) as string,
            ),
          send: async (chunk) => {
            const data = AUCTION_CALLS.encodeFunctionData("clearRound", [roundId, chunk.maxBids]);
            await send(wallet, from, market, data, chunk.gasLimit);
          },
          blockGasLimit,
        },
        CLEARING_CHUNK,
      ),
  });
}
