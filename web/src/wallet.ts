import { Interface, hexlify, parseUnits, toUtf8Bytes } from "ethers";

import type { Api } from "./api";

/** An EIP-1193 provider: what a browser wallet puts at `window.ethereum`. */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

declare global {
  interface Window {
    ethereum?: Eip1193;
  }
}

/** The few contract calls a wallet user signs in the portal. */
const MARKET_CALLS = new Interface([
  "function bookInstant(uint32 offerId, uint32 start, uint16 slices, uint64 maxPricePerHour, uint32 replacesLease, string image) returns (uint32)",
  "function release(uint32 leaseId)",
  "function transferAndCall(address to, uint256 value) returns (bool)",
]);
const CREDIT_DECIMALS = 6;
const RECEIPT_POLL_MS = 250;
const RECEIPT_TIMEOUT_MS = 60_000;

export interface ChainInfo {
  chainId: number;
  contracts: { credits: string; market: string; offers: string; leases: string };
  schedule: { genesis: number; commitSeconds: number; revealSeconds: number };
  /** Seconds between blocks (0: a block per transaction). */
  blockSeconds: number;
  defaultImage: string;
}

export const parseCredits = (credits: string): bigint => parseUnits(credits, CREDIT_DECIMALS);

export function browserWallet(): Eip1193 | undefined {
  return typeof window === "undefined" ? undefined : window.ethereum;
}

/** Asks the wallet for its account, has it sign the gateway's challenge, and answers a session token. */
export async function signInWithWallet(api: Api, wallet: Eip1193): Promise<string> {
  const [address] = (await wallet.request({ method: "eth_requestAccounts" })) as string[];
  if (address === undefined) throw new Error("the wallet shared no account");
  const { message } = await api.post<{ message: string }>("/auth/wallet/challenge", { address });
  // personal_sign takes the message as hex of its UTF-8 bytes; wallets show it decoded.
  const signature = (await wallet.request({
    method: "personal_sign",
    params: [hexlify(toUtf8Bytes(message)), address],
  })) as string;
  return (await api.post<{ token: string }>("/auth/wallet", { message, signature })).token;
}

/** Sends a transaction from the user's wallet and waits until it is mined; a revert is an error. */
export async function send(wallet: Eip1193, from: string, to: string, data: string, gas?: bigint): Promise<string> {
  const transaction = { from, to, data, ...(gas === undefined ? {} : { gas: `0x${gas.toString(16)}` }) };
  const hash = (await wallet.request({ method: "eth_sendTransaction", params: [transaction] })) as string;
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  for (;;) {
    const receipt = (await wallet.request({ method: "eth_getTransactionReceipt", params: [hash] })) as {
      status: string;
    } | null;
    if (receipt !== null) {
      if (receipt.status !== "0x1") throw new Error(`the market refused transaction ${hash}`);
      return hash;
    }
    if (Date.now() > deadline) throw new Error(`transaction ${hash} was not mined within a minute`);
    await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
  }
}

/** Books at a posted price, signed by the wallet; first moves the wallet's credits into the market if needed. */
export async function bookWithWallet(options: {
  wallet: Eip1193;
  chain: ChainInfo;
  from: string;
  offerId: number;
  start: number;
  slices: number;
  maxPricePerHour: string;
  image: string;
  available: string;
  held: string;
  cost: number;
}): Promise<string> {
  const { wallet, chain, from } = options;
  await depositIfShort({ ...options });
  return send(
    wallet,
    from,
    chain.contracts.offers,
    MARKET_CALLS.encodeFunctionData("bookInstant", [
      options.offerId,
      options.start,
      options.slices,
      parseCredits(options.maxPricePerHour),
      0,
      options.image,
    ]),
  );
}

/** Moves the wallet's credits into the market account when what is available there is short of `cost`. */
export async function depositIfShort(options: {
  wallet: Eip1193;
  chain: ChainInfo;
  from: string;
  available: string;
  held: string;
  cost: number;
}): Promise<void> {
  if (Number(options.available) >= options.cost || Number(options.held) <= 0) return;
  await send(
    options.wallet,
    options.from,
    options.chain.contracts.credits,
    MARKET_CALLS.encodeFunctionData("transferAndCall", [options.chain.contracts.market, parseCredits(options.held)]),
  );
}

export function releaseWithWallet(wallet: Eip1193, chain: ChainInfo, from: string, leaseId: number): Promise<string> {
  return send(wallet, from, chain.contracts.leases, MARKET_CALLS.encodeFunctionData("release", [leaseId]));
}
