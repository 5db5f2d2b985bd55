import { Keeper, type KeeperCounters } from "../sdk/index.js";
import type { Logger } from "../sdk/log.js";
import type { AppOptions } from "./http/app.js";
import type { Services } from "./services.js";

/**
 * The gateway's keeper (`sdk/keeper.ts`), signing with the operator's custodial wallet, or
 * `undefined` when the settings turn it off. Not started: the gateway starts and stops it (and a
 * leader election may run it on one replica only).
 */
export async function operatorKeeper(
  services: Pick<Services, "settings" | "provider" | "deployment" | "wallets" | "operator">,
  logger: Logger,
): Promise<Keeper | undefined> {
  const { keeper, indexer } = services.settings;
  if (!keeper.enabled) return undefined;
  return new Keeper({
    provider: services.provider,
    deployment: services.deployment,
    contracts: await services.wallets.contractsOf(services.operator),
    logger,
    options: {
      pollIntervalMs: keeper.pollIntervalMs,
      confirmations: indexer.confirmations,
      blockRange: indexer.blockRange,
    },
  });
}

const COUNTERS: readonly [keyof KeeperCounters, string][] = [
  ["forfeited", "Unrevealed bids the keeper forfeited"],
  ["settled", "Leases the keeper settled at their end"],
  ["refunded", "Leases the keeper refunded after their agent's grace passed"],
  ["cleared", "Rounds the keeper cleared"],
  ["superseded", "Keeper tasks someone else did first"],
  ["retries", "Keeper sends that failed and were tried again"],
];

/** The keeper's counters as `/metrics` gauges (`keeper_<counter>_total`); none when it is off. */
export function keeperGauges(keeper: Keeper | undefined): AppOptions<Services>["gauges"] {
  if (keeper === undefined) return [];
  return COUNTERS.map(([counter, help]) => ({
    name: `keeper_${counter}_total`,
    help,
    read: () => keeper.status().counters[counter],
  }));
}
