import { JsonRpcApiProvider, JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult, type Provider } from "ethers";

/** Poll interval for new blocks; local and Quorum chains mine every second or faster. */
const POLLING_INTERVAL_MS = 250;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * ethers' JSON-RPC provider, its request and answer bodies converted by the platform's own UTF-8
 * codec: ethers converts them in JavaScript, which made reading a large `eth_getLogs` answer the
 * indexer's costliest step, and took a share of every transaction sent.
 */
class MarketProvider extends JsonRpcProvider {
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const request = this._getConnection();
    request.body = encoder.encode(JSON.stringify(payload));
    request.setHeader("content-type", "application/json");
    const response = await request.send();
    response.assertOk();
    const answer = JSON.parse(decoder.decode(response.body ?? new Uint8Array())) as JsonRpcResult | JsonRpcResult[];
    return Array.isArray(answer) ? answer : [answer];
  }
}

/**
 * A JSON-RPC provider suited to the market's chains. Caching is off: against an automining node,
 * a cached `eth_getTransactionCount` makes back-to-back transactions fail with "nonce too low".
 * The chain id is read once (`staticNetwork`), not before every transaction, and calls made
 * together are batched without waiting for more: a busy sender pays no extra round trips.
 */
export function createProvider(url: string): JsonRpcProvider {
  const provider = new MarketProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true, batchStallTime: 0 });
  provider.pollingInterval = POLLING_INTERVAL_MS;
  return provider;
}

/**
 * The latest block's time (unix seconds), read lightly: only the header's timestamp is parsed,
 * not a whole block object, since a busy gateway asks before every sealed bid.
 */
export async function latestBlockTime(provider: Provider): Promise<number> {
  if (provider instanceof JsonRpcApiProvider) {
    const header = (await provider.send("eth_getBlockByNumber", ["latest", false])) as { timestamp: string } | null;
    if (header !== null) return Number(header.timestamp);
  }
  return (await provider.getBlock("latest"))?.timestamp ?? 0;
}

/** The latest block's gas limit: what one transaction can use at most. */
export async function latestBlockGasLimit(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (block === null) throw new Error("the chain has no latest block");
  return block.gasLimit;
}
