import { z } from "zod";

import { addressSchema as address, basisPointsSchema, parseOrThrow, type DeployOptions } from "../../sdk/index.js";

const seconds = z.coerce.number().int().positive();

/** Deployment settings read from the environment; every one is optional. */
const settingsSchema = z.object({
  MARKET_ADMIN: address.optional(),
  MARKET_TREASURY: address.optional(),
  MARKET_COMMIT_SECONDS: seconds.optional(),
  MARKET_REVEAL_SECONDS: seconds.optional(),
  MARKET_PENALTY_BPS: z.coerce.number().pipe(basisPointsSchema).optional(),
  MARKET_PROVISION_GRACE_SECONDS: seconds.optional(),
  MARKET_PREEMPTION_NOTICE_SECONDS: z.coerce.number().int().nonnegative().optional(),
  MARKET_CANCELLATION_BPS: z.coerce.number().pipe(basisPointsSchema).optional(),
});

/** Reads deployment options from environment variables, naming the variable at fault. */
export function deploySettingsFromEnv(env: NodeJS.ProcessEnv): DeployOptions {
  const s = parseOrThrow(settingsSchema, env, "invalid deployment settings");
  return {
    admin: s.MARKET_ADMIN,
    treasury: s.MARKET_TREASURY,
    schedule: {
      commitSeconds: s.MARKET_COMMIT_SECONDS,
      revealSeconds: s.MARKET_REVEAL_SECONDS,
      penaltyBps: s.MARKET_PENALTY_BPS,
    },
    provisionGraceSeconds: s.MARKET_PROVISION_GRACE_SECONDS,
    preemptionNoticeSeconds: s.MARKET_PREEMPTION_NOTICE_SECONDS,
    cancellationBps: s.MARKET_CANCELLATION_BPS,
  };
}

/** Width of the label column in terminal summaries. */
export const LABEL_WIDTH = 10;

/** One aligned `label  value` line of a terminal summary. */
export function summaryLine(label: string, value: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${value}`;
}

/** A short, aligned summary of a deployment for the terminal. */
export function describeDeployment(deployment: {
  chainId: number;
  contracts: Record<string, string>;
  schedule: { commitSeconds: number; revealSeconds: number; penaltyBps: number };
}): string {
  const { commitSeconds, revealSeconds, penaltyBps } = deployment.schedule;
  return [
    summaryLine("chain id", String(deployment.chainId)),
    ...Object.entries(deployment.contracts).map(([name, address]) => summaryLine(name, address)),
    summaryLine(
      "rounds",
      `${commitSeconds} s to commit, ${revealSeconds} s to reveal; unrevealed bids lose ${penaltyBps / 100}%`,
    ),
  ].join("\n");
}
