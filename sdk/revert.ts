/** The market's refusals as values: no ABI needed, so that browser code can test for them. */

/** A contract's custom error (or `Error(string)` / `Panic(uint256)`), decoded. */
export interface DecodedRevert {
  name: string;
  signature: string;
  args: Record<string, unknown>;
}

/** A transaction or call the market's contracts refused, with the custom error they gave. */
export class MarketRevertError extends Error {
  constructor(
    readonly revert: DecodedRevert,
    options?: { cause?: unknown },
  ) {
    super(`${revert.name}(${formatArgs(revert.args)})`, options);
    this.name = "MarketRevertError";
  }
}

function formatArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(", ");
}
