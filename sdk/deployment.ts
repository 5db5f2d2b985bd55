import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { z } from "zod";

import { addressSchema as address, basisPointsSchema } from "./validation.js";

/** A deployment of the market on one chain, as written to `deployments/<chainId>.json`. */
export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  deployedAt: z.string().datetime(),
  blockNumber: z.number().int().nonnegative(),
  admin: address,
  contracts: z.object({
    credits: address,
    market: address,
    nodes: address,
    offers: address,
    leases: address,
  }),
  schedule: z.object({
    genesis: z.number().int().nonnegative(),
    commitSeconds: z.number().int().positive(),
    revealSeconds: z.number().int().positive(),
    penaltyBps: basisPointsSchema,
  }),
  provisionGraceSeconds: z.number().int().nonnegative(),
  preemptionNoticeSeconds: z.number().int().nonnegative(),
  cancellationBps: basisPointsSchema,
});

export type Deployment = z.infer<typeof deploymentSchema>;

/** Where the deployment of `chainId` is kept. */
export function deploymentPath(chainId: number | bigint, directory = "deployments"): string {
  return join(directory, `${chainId}.json`);
}

/** Reads and validates the deployment of `chainId`. */
export async function readDeployment(chainId: number | bigint, directory = "deployments"): Promise<Deployment> {
  const path = deploymentPath(chainId, directory);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`no deployment for chain ${chainId} at ${path}: run \`npm run deploy\` first`, { cause: error });
  }
  return deploymentSchema.parse(JSON.parse(text));
}

/** Writes `deployment` atomically (write, then rename) and returns its path. */
export async function writeDeployment(deployment: Deployment, directory = "deployments"): Promise<string> {
  const valid = deploymentSchema.parse(deployment);
  await mkdir(directory, { recursive: true });
  const path = deploymentPath(valid.chainId, directory);
  const partial = `${path}.partial`;
  await writeFile(partial, `${JSON.stringify(valid, null, 2)}\n`);
  await rename(partial, path);
  return path;
}
