import { parseUnits } from "ethers";

/** Credits have 6 decimals: 1 credit is 1,000,000 base units. */
export const CREDIT_DECIMALS = 6;
export const SECONDS_PER_HOUR = 3600n;

/** "12.5" credits to base units. */
export function parseCredits(amount: string): bigint {
  return parseUnits(amount, CREDIT_DECIMALS);
}

const UNIT = 10n ** BigInt(CREDIT_DECIMALS);

/** Base units to a decimal string of credits, e.g. 12500000n to "12.5" (plain bigint arithmetic: it is hot). */
export function formatCredits(amount: bigint): string {
  const sign = amount < 0n ? "-" : "";
  const magnitude = amount < 0n ? -amount : amount;
  const whole = magnitude / UNIT;
  const fraction = (magnitude % UNIT).toString().padStart(CREDIT_DECIMALS, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}
