import { keccak256, toUtf8Bytes } from "ethers";

/** One usage sample of a running lease, as the agent takes it from the node's BMC. */
export interface UsageSample {
  /** Epoch milliseconds. */
  at: number;
  powerState: string;
  watts: number | null;
}

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

/**
 * The samples an anchored record proves: those up to `meteredUntil` (unix seconds), when the
 * record rebuilt from them hashes to `anchoredHash`; none otherwise. Whatever else an agent says
 * is not shown as the lease's usage.
 */
export function provenSamples(
  leaseId: number,
  samples: readonly UsageSample[],
  anchored: { hash: string; meteredUntil: number },
): UsageSample[] {
  const covered = samples.filter((sample) => Math.floor(sample.at / 1000) <= anchored.meteredUntil);
  return usageRecordHash(leaseId, covered) === anchored.hash ? covered : [];
}
