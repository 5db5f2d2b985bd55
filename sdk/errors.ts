import { Interface, isHexString, type ErrorDescription } from "ethers";

import { plainArgs } from "./abi-values.js";
import { contractInterfaces, contractNames } from "./contracts.js";
import { MarketRevertError, type DecodedRevert } from "./revert.js";

export { MarketRevertError, type DecodedRevert } from "./revert.js";

const builtinErrors = new Interface(["error Error(string message)", "error Panic(uint256 code)"]);
const interfaces: readonly Interface[] = [...contractNames.map((name) => contractInterfaces[name]), builtinErrors];

/** Decodes revert data against every market contract's errors. */
export function decodeRevertData(data: string): DecodedRevert | undefined {
  for (const iface of interfaces) {
    let parsed: ErrorDescription | null;
    try {
      parsed = iface.parseError(data);
    } catch {
      continue;
    }
    if (parsed !== null) {
      return { name: parsed.name, signature: parsed.signature, args: plainArgs(parsed.fragment.inputs, parsed.args) };
    }
  }
  return undefined;
}

/** Finds revert data in an error thrown by ethers or a JSON-RPC provider, however deeply wrapped. */
export function revertDataOf(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 6) return undefined;
  const candidate = (error as { data?: unknown }).data;
  if (typeof candidate === "string" && isHexString(candidate) && candidate.length >= 10) return candidate;
  for (const key of ["data", "error", "info", "cause"]) {
    const found = revertDataOf((error as Record<string, unknown>)[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The market revert inside `error`, if it carries one. */
export function decodeRevert(error: unknown): DecodedRevert | undefined {
  const data = revertDataOf(error);
  return data === undefined ? undefined : decodeRevertData(data);
}

/** Runs `action`; a market revert is rethrown as a `MarketRevertError` naming the custom error. */
export async function withDecodedRevert<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const revert = decodeRevert(error);
    if (revert === undefined) throw error;
    throw new MarketRevertError(revert, { cause: error });
  }
}

/** What went wrong, in one line: an error's message, or the thrown value itself. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
