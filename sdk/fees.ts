import type { Provider } from "ethers";

import type { TransactionDefaults } from "./signer.js";

/**
 * The transaction type a chain wants. Quorum-family chains (GoQuorum, Besu with QBFT) run with a
 * zero base fee or no fee market at all, and take legacy transactions at their own gas price
 * (usually 0); chains with a fee market get EIP-1559 transactions, priced by ethers as usual.
 */
export async function transactionDefaultsFor(provider: Provider): Promise<TransactionDefaults> {
  const latest = await provider.getBlock("latest");
  const baseFee = latest?.baseFeePerGas ?? null;
  if (baseFee !== null && baseFee > 0n) return {};
  const { gasPrice } = await provider.getFeeData();
  return { type: 0, gasPrice: gasPrice ?? 0n };
}
