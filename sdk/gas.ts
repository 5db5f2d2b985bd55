/**
 * Gas on top of an estimate, as a share of it (in percent) and a fixed amount. An estimate is exact
 * for the state and `block.timestamp` it was made at; mined a block later, a call's path can differ
 * (a round's window, a lease's settlement), and a limit of exactly the estimate then runs out.
 * The fixed part covers EIP-2200's stipend check, which an estimate at the limit trips.
 */
const GAS_HEADROOM_PERCENT = 25n;
const GAS_HEADROOM_FIXED = 25_000n;

/** The gas limit to send with: the estimate plus headroom, never above what a block holds. */
export function withGasHeadroom(estimate: bigint, blockGasLimit: bigint | undefined): bigint {
  const padded = estimate + (estimate * GAS_HEADROOM_PERCENT) / 100n + GAS_HEADROOM_FIXED;
  return blockGasLimit === undefined || padded < blockGasLimit ? padded : blockGasLimit;
}
