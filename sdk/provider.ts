import { JsonRpcProvider } from "ethers";

/** Poll interval for new blocks; local and Quorum chains mine every second or faster. */
const POLLING_INTERVAL_MS = 250;

/**
 * A JSON-RPC provider suited to the market's chains. Caching is off: against an automining node,
 * a cached `eth_getTransactionCount` makes back-to-back transactions fail with "nonce too low".
 */
export function createProvider(url: string): JsonRpcProvider {
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
  provider.pollingInterval = POLLING_INTERVAL_MS;
  return provider;
}
