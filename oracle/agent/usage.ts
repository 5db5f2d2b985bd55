import { keccak256, toUtf8Bytes } from "ethers";

import type { UsageSample } from "./store.js";

/**
 * A lease's usage record as anchored on-chain: one JSON line per sample, in time order. Anyone
 * holding the samples rebuilds the same bytes, so the chain's hash proves the record unchanged.
 */
export function usageRecord(leaseId: number, samples: readonly UsageSample[]): string {
  return samples.map((s) => JSON.stringify({ leaseId, at: s.at, powerState: s.powerState, watts: s.watts })).join("\n");
}

export function usageRecordHash(leaseId: number, samples: readonly UsageSample[]): string {
  return keccak256(toUtf8Bytes(usageRecord(leaseId, samples)));
}
