import { isAddress } from "ethers";
import { z } from "zod";

import type { DeployOptions } from "../../sdk/index.js";

const seconds = z.coerce.number().int().positive();
const address = z.string().refine((value) => isAddress(value), { message: "not an address" });

/** Deployment settings read from the environment; every one is optional. */
const settingsSchema = z.object({
  MARKET_ADMIN: address.optional(),
  MARKET_TREASURY: address.optional(),
  MARKET_COMMIT_SECONDS: seconds.optional(),
  MARKET_REVEAL_SECONDS: seconds.optional(),
  MARKET_PENALTY_BPS: z.coerce.number().int().min(0).max(10_000).optional(),
  MARKET_PROVISION_GRACE_SECONDS: seconds.optional(),
});

/** Reads deployment options from environment variables, naming the variable at fault. */
export function deploySettingsFromEnv(env: NodeJS.ProcessEnv): DeployOptions {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid deployment settings: ${problems.join("; ")}`);
  }
  const s = parsed.data;
  return {
    admin: s.MARKET_ADMIN,
    treasury: s.MARKET_TREASURY,
    schedule: {
      commitSeconds: s.MARKET_COMMIT_SECONDS,
      revealSeconds: s.MARKET_REVEAL_SECONDS,
      penaltyBps: s.MARKET_PENALTY_BPS,
    },
    provisionGraceSeconds: s.MARKET_PROVISION_GRACE_SECONDS,
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
