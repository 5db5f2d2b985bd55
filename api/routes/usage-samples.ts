import { keccak256, toUtf8Bytes } from "ethers";

import type { LeaseRow } from "../readmodel/leases.js";
import type { Services } from "../services.js";

interface AgentUsage {
  record: string;
  samples: { at: number; powerState: string; watts: number | null }[];
}

const AGENT_TIMEOUT_MS = 3000;

/**
 * The agent's usage samples of a lease, fetched from the agent's usage endpoint when one is
 * configured. Once the agent anchored a record on-chain, samples are shown only if they hash to it.
 */
export async function fetchAgentSamples(
  services: Services,
  lease: LeaseRow,
): Promise<{ at: string; powerState: string; watts: number | null }[]> {
  const node = await services.db.get<{ agent: string }>("SELECT agent FROM nodes WHERE node_id = $1", [
    Number(lease.node_id),
  ]);
  const base = node === undefined ? undefined : services.settings.agentUsageUrls[node.agent.toLowerCase()];
  if (base === undefined) return [];
  let usage: AgentUsage;
  try {
    const response = await fetch(new URL(`leases/${lease.lease_id}/usage`, base.endsWith("/") ? base : `${base}/`), {
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
    });
    if (!response.ok) return [];
    usage = (await response.json()) as AgentUsage;
  } catch {
    // The agent is the provider's; when it cannot be reached the on-chain figures still stand.
    return [];
  }
  if (lease.usage_hash !== null && keccak256(toUtf8Bytes(usage.record)) !== lease.usage_hash) return [];
  return usage.samples.map((sample) => ({
    at: new Date(sample.at).toISOString(),
    powerState: sample.powerState,
    watts: sample.watts,
  }));
}
