import { z } from "zod";

import { parseOrThrow } from "../sdk/index.js";
import { readSettingsFile } from "../sdk/settings-file.js";
import { DEFAULT_INDEXER_OPTIONS } from "./indexer/indexer.js";

const wei = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform((value) => BigInt(value));

/** Everything the gateway is told: where the chain and database are, secrets, limits. */
export const gatewaySettingsSchema = z
  .object({
    rpcUrl: z.string().url(),
    /** Where `deployments/<chainId>.json` files are. */
    deploymentsDir: z.string().default("deployments"),
    /** A SQLite file path, or a `postgres://` URL. */
    database: z.string().default("data/gateway.sqlite"),
    /** File holding the master secret that seals custodial keys, bid salts and webhook secrets. */
    masterSecretFile: z.string().optional(),
    host: z.string().default("127.0.0.1"),
    /**
     * The origin people reach the gateway at (behind a proxy, say): named in wallet challenges.
     * Omitted, the address it listens on.
     */
    publicUrl: z.string().url().optional(),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** The operator's key, taken into custody at the first start as the first admin's wallet. */
    operatorKey: z
      .object({
        keystore: z.string().optional(),
        passwordFile: z.string().optional(),
        privateKey: z.string().optional(),
      })
      .default({}),
    bootstrapAdmin: z
      .object({
        email: z.string().email().default("admin@metalmarket.local"),
        password: z.string().min(8).optional(),
        /** Where the first admin's API key is written (mode 0600), once. */
        apiKeyFile: z.string().optional(),
      })
      .default({}),
    indexer: z
      .object({
        confirmations: z.number().int().nonnegative().default(DEFAULT_INDEXER_OPTIONS.confirmations),
        pollIntervalMs: z.number().int().positive().default(DEFAULT_INDEXER_OPTIONS.pollIntervalMs),
        blockRange: z.number().int().positive().default(DEFAULT_INDEXER_OPTIONS.blockRange),
        reorgDepth: z.number().int().positive().default(DEFAULT_INDEXER_OPTIONS.reorgDepth),
      })
      .default({}),
    chain: z
      .object({
        /**
         * Seconds between the chain's blocks (a QBFT network's block period); deadlines keep one
         * block of margin. 0: a block per transaction (an automining development chain). Omitted,
         * it is measured from recent blocks.
         */
        blockSeconds: z.number().int().nonnegative().optional(),
      })
      .default({}),
    bids: z
      .object({
        /** How often sealed bids are checked for their reveal window and clearing. */
        pollIntervalMs: z.number().int().positive().default(500),
        /** A commit this close to the end of its round's commit window is refused, not risked. */
        minCommitSecondsLeft: z.number().int().nonnegative().default(5),
      })
      .default({}),
    keeper: z
      .object({
        /**
         * Forfeit unrevealed bids, settle leases past their end or their agent's grace, and clear
         * rounds, signed by the operator's wallet: permissionless calls, so that no credit stays
         * locked because some process forgot. Off where another keeper (`market keeper run`) does it.
         */
        enabled: z.boolean().default(true),
        /** Pause between the keeper's passes over the chain. */
        pollIntervalMs: z.number().int().positive().default(5000),
      })
      .default({}),
    limits: z
      .object({
        bodyBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024),
        /** Requests per minute per API key, session or address. */
        requestsPerMinute: z.number().int().positive().default(6000),
      })
      .default({}),
    /** Gas for custodial accounts; omitted, the gateway funds them only when gas has a price. */
    gas: z.object({ minimumWei: wei, targetWei: wei }).optional(),
    /** The image a lease boots when a request names none. */
    defaultImage: z.string().url().default("https://images.metalmarket.local/ubuntu-24.04-live.iso"),
    images: z
      .object({
        /** Let buyers name images on loopback, private or link-local addresses (a provider's own mirror). */
        allowInternalNetworks: z.boolean().default(false),
      })
      .default({}),
    webhooks: z
      .object({
        maxAttempts: z.number().int().positive().default(8),
        backoffMs: z.number().int().positive().default(1000),
        timeoutMs: z.number().int().positive().default(5000),
        /** Let webhooks reach loopback and private networks (a local stack); off in production. */
        allowInternalNetworks: z.boolean().default(false),
      })
      .default({}),
    /** Agents' usage endpoints, by agent address, for `GET /timeslots/{id}/usage`. */
    agentUsageUrls: z
      .record(z.string(), z.string().url())
      .default({})
      // Addresses are matched whatever their case (checksummed or not).
      .transform((urls) => Object.fromEntries(Object.entries(urls).map(([agent, url]) => [agent.toLowerCase(), url]))),
  })
  .strict();

export type GatewaySettings = z.infer<typeof gatewaySettingsSchema>;
export type GatewaySettingsInput = z.input<typeof gatewaySettingsSchema>;

/** Every field of the settings file that names a file or folder. */
const GATEWAY_PATHS = [
  "deploymentsDir",
  "database",
  "masterSecretFile",
  "operatorKey.keystore",
  "operatorKey.passwordFile",
  "bootstrapAdmin.apiKeyFile",
] as const;

/** Reads gateway settings from a JSON file; relative paths in it are relative to the file. */
export async function readGatewaySettings(path: string): Promise<GatewaySettings> {
  return parseOrThrow(
    gatewaySettingsSchema,
    await readSettingsFile(path, GATEWAY_PATHS),
    `gateway settings in ${path}`,
  );
}
