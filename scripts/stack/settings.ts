import { resolve } from "node:path";

import { z } from "zod";

import { parseOrThrow } from "../../sdk/index.js";
import { readSettingsFile } from "../../sdk/settings-file.js";

const port = z.coerce.number().int().min(0).max(65_535);

/**
 * What `market start` runs, from one JSON file (`--config`) and `MARKET_*` environment variables.
 * Every setting is optional: without any, it runs the embedded local marketplace.
 */
export const stackSettingsSchema = z
  .object({
    /** Where everything that outlives a restart is kept: secrets, databases, logs. */
    dataDir: z.string().default(".metalmarket"),
    /** Where the gateway, the chain and the BMC simulators listen. */
    host: z.string().default("127.0.0.1"),
    chain: z
      .object({
        /** A Besu or GoQuorum node's JSON-RPC URL; omitted, an embedded chain (Hardhat's EDR) runs. */
        rpcUrl: z.string().url().optional(),
        /** The chain id the node must report; a guard against pointing at the wrong network. */
        chainId: z.coerce.number().int().positive().optional(),
        /** The embedded chain's port. */
        port: port.default(8545),
        /**
         * Seconds between blocks: the embedded chain mines on this interval (0: a block per
         * transaction), and the gateway keeps deadlines a block apart. Give a real network's block
         * period here too (a QBFT network's is often 1 to 5 s).
         */
        blockSeconds: z.coerce.number().int().nonnegative().default(0),
        /** The embedded chain's EVM rules, e.g. "berlin" to behave like a Quorum network; omitted, the latest. */
        hardfork: z.string().optional(),
        /** Folder of `<chainId>.json` files with the market's addresses; required with `rpcUrl`. */
        deploymentsDir: z.string().optional(),
        /** The operator's key (an admin of the market), taken into custody by the gateway at its first start. */
        operatorKey: z.object({ keystore: z.string(), passwordFile: z.string() }).strict().optional(),
      })
      .strict()
      .default({}),
    gateway: z
      .object({
        port: port.default(8080),
        /** A `postgres://` URL for the read model and the gateway's state; omitted, SQLite in the data directory. */
        database: z.string().optional(),
        /** Any other gateway setting (see api/README.md), passed through as is. */
        settings: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .default({}),
    /** Simulated BMCs, shared between two local provider tenants, each with an agent. 0: none. */
    simulatedBmcs: z
      .object({
        count: z.coerce.number().int().min(0).max(64).default(8),
        powerMs: z.coerce.number().int().min(0).default(2000),
        mediaTaskMs: z.coerce.number().int().min(0).default(1000),
      })
      .strict()
      .default({}),
    /** Agent configuration files (see oracle/README.md) for real BMCs; each runs as a process. */
    agents: z.array(z.string()).default([]),
  })
  .strict();

export type StackSettings = z.infer<typeof stackSettingsSchema>;

/** Environment variables that override the file, by setting. */
const ENVIRONMENT = {
  MARKET_DATA_DIR: ["dataDir"],
  MARKET_RPC_URL: ["chain", "rpcUrl"],
  MARKET_CHAIN_ID: ["chain", "chainId"],
  MARKET_RPC_PORT: ["chain", "port"],
  MARKET_BLOCK_SECONDS: ["chain", "blockSeconds"],
  MARKET_DEPLOYMENTS_DIR: ["chain", "deploymentsDir"],
  MARKET_PORT: ["gateway", "port"],
  MARKET_DATABASE_URL: ["gateway", "database"],
  MARKET_NODES: ["simulatedBmcs", "count"],
} as const satisfies Record<string, readonly string[]>;

/** Every field of the settings file that names a file or folder. */
const STACK_PATHS = [
  "dataDir",
  "chain.deploymentsDir",
  "chain.operatorKey.keystore",
  "chain.operatorKey.passwordFile",
  "agents.*",
] as const;

/**
 * Reads the settings file (when given), lays the environment over it, and resolves paths in the
 * file against the file's folder.
 */
export async function readStackSettings(file: string | undefined, env: NodeJS.ProcessEnv): Promise<StackSettings> {
  const raw = file === undefined ? {} : await readSettingsFile(file, STACK_PATHS);
  for (const [variable, path] of Object.entries(ENVIRONMENT)) {
    const value = env[variable];
    if (value !== undefined && value !== "") setAt(raw, path, value);
  }
  const settings = parseOrThrow(stackSettingsSchema, raw, file === undefined ? "settings" : `settings in ${file}`);
  // The parts run from the project's root: every path they are given is absolute.
  settings.dataDir = resolve(settings.dataDir);
  if (settings.chain.rpcUrl !== undefined && settings.chain.deploymentsDir === undefined) {
    throw new Error("chain.deploymentsDir: give the folder with the market's deployment file for that chain");
  }
  return settings;
}

function setAt(raw: Record<string, unknown>, path: readonly string[], value: string): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    raw[head] = value;
    return;
  }
  const inner = (raw[head] ??= {}) as Record<string, unknown>;
  setAt(inner, rest, value);
}
