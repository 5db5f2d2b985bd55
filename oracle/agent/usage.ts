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

/** Seconds the node was on, counting each interval between samples by its opening sample. */
export function poweredSeconds(samples: readonly UsageSample[]): number {
  let seconds = 0;
  for (let i = 1; i < samples.length; i += 1) {
    const previous = samples[i - 1];
    const current = samples[i];
    if (previous !== undefined && current !== undefined && previous.powerState === "On")
      seconds += (current.at - previous.at) / 1000;
  }
  return seconds;
}

/** Energy drawn in watt-hours, by the trapezoid rule over the samples that report watts. */
export function energyWattHours(samples: readonly UsageSample[]): number {
  let joules = 0;
  for (let i = 1; i < samples.length; i += 1) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a?.watts === null || a?.watts === undefined || b?.watts === null || b?.watts === undefined) continue;
    joules += ((a.watts + b.watts) / 2) * ((b.at - a.at) / 1000);
  }
  return joules / 3600;
}
