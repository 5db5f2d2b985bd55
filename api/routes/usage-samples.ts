import { z } from "zod";

import { provenSamples } from "../../sdk/usage-record.js";
import type { LeaseRow } from "../readmodel/leases.js";
import { findNode } from "../readmodel/nodes.js";
import type { Services } from "../services.js";

/** What an agent's usage endpoint answers; anything else is not read. */
const agentUsageSchema = z.object({
  samples: z.array(
    z.object({ at: z.number().int().nonnegative(), powerState: z.string().max(64), watts: z.number().nullable() }),
  ),
});

const AGENT_TIMEOUT_MS = 3000;

/**
 * The agent's usage samples of a lease, fetched from the agent's usage endpoint when one is
 * configured. Once the agent anchored a record on-chain, only the samples that record proves are
 * shown: the record is rebuilt from them and must hash to the chain's value.
 */
export async function fetchAgentSamples(
  services: Services,
  lease: LeaseRow,
): Promise<{ at: string; powerState: string; watts: number | null }[]> {
  const node = await findNode(services.db, Number(lease.node_id));
  const base = node === undefined ? undefined : services.settings.agentUsageUrls[node.agent.toLowerCase()];
  if (base === undefined) return [];
  let samples: z.infer<typeof agentUsageSchema>["samples"];
  try {
    const response = await fetch(new URL(`leases/${lease.lease_id}/usage`, base.endsWith("/") ? base : `${base}/`), {
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
    });
    if (!response.ok) return [];
    const parsed = agentUsageSchema.safeParse(await response.json());
    if (!parsed.success) return [];
    samples = parsed.data.samples;
  } catch {
    // The agent is the provider's; when it cannot be reached the on-chain figures still stand.
    return [];
  }
  const shown =
    lease.usage_hash === null
      ? samples
      : provenSamples(Number(lease.lease_id), samples, {
          hash: lease.usage_hash,
          meteredUntil: Number(lease.metered_until ?? 0),
        });
  return shown.map((sample) => ({
    at: new Date(sample.at).toISOString(),
    powerState: sample.powerState,
    watts: sample.watts,
  }));
}
