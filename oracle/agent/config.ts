import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

import { z } from "zod";

import { parseOrThrow, readPassword, type KeySource } from "../../sdk/index.js";
import { readSettingsFile } from "../../sdk/settings-file.js";
import type { AgentOptions, OperatedNode } from "./agent.js";

const bmcSchema = z
  .object({
    url: z.string().url(),
    username: z.string().min(1),
    /** The BMC password lives in its own file, readable by the agent only. */
    passwordFile: z.string().min(1),
    systemId: z.string().min(1).optional(),
    caFile: z.string().min(1).optional(),
    insecure: z.boolean().default(false),
    timeoutSeconds: z.number().positive().default(30),
  })
  .strict();

/** The agent's configuration file. Paths are relative to the file. */
export const agentConfigSchema = z
  .object({
    rpcUrl: z.string().url(),
    /** Folder of `<chainId>.json` deployment files. */
    deployments: z.string().default("deployments"),
    key: z.object({ keystore: z.string().min(1), passwordFile: z.string().min(1) }).strict(),
    /** Where the agent keeps its SQLite database. */
    dataDir: z.string().min(1),
    confirmations: z.number().int().nonnegative().default(0),
    pollIntervalMs: z.number().int().positive().default(50),
    startBlock: z.number().int().nonnegative().optional(),
    meterIntervalSeconds: z.number().positive().default(60),
    power: z
      .object({
        timeoutSeconds: z.number().positive().default(300),
        pollMs: z.number().int().positive().default(1_000),
      })
      .strict()
      .default({}),
    wipe: z.object({ image: z.string().url(), timeoutSeconds: z.number().positive() }).strict().optional(),
    /** Serve leases' usage samples to the gateway (`GET /leases/{id}/usage`); off when omitted. */
    usage: z
      .object({ host: z.string().default("127.0.0.1"), port: z.number().int().min(0).max(65_535) })
      .strict()
      .optional(),
    nodes: z
      .array(
        z
          .object({
            nodeId: z.number().int().positive(),
            /** Where tenants reach the machine; the machine's first IPv4 by default. */
            address: z.string().min(1).optional(),
            bmc: bmcSchema,
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Everything an agent process needs, read and checked from its configuration file. */
export interface ResolvedAgentConfig {
  rpcUrl: string;
  deployments: string;
  key: KeySource;
  databasePath: string;
  nodes: OperatedNode[];
  options: Partial<AgentOptions>;
  usage?: { host: string; port: number };
}

/**
 * The fields of an agent's configuration that name a file; `deployments` and `dataDir` (which
 * have defaults) are resolved after parsing, defaults included.
 */
const AGENT_PATHS = ["key.keystore", "key.passwordFile", "nodes.*.bmc.passwordFile", "nodes.*.bmc.caFile"] as const;

export async function readAgentConfig(path: string): Promise<ResolvedAgentConfig> {
  const raw = await readSettingsFile(path, AGENT_PATHS);
  // Defaults, too, are relative to the file.
  const at = (file: string) => resolve(dirname(resolve(path)), file);
  const config = parseOrThrow(agentConfigSchema, raw, `agent configuration ${path}`);
  const nodes = await Promise.all(
    config.nodes.map(async ({ nodeId, address, bmc }): Promise<OperatedNode> => ({
      nodeId,
      ...(address === undefined ? {} : { address }),
      bmc: {
        url: bmc.url,
        ...(bmc.systemId === undefined ? {} : { systemId: bmc.systemId }),
        credentials: { username: bmc.username, password: await readPassword(bmc.passwordFile) },
        ...(bmc.caFile === undefined ? {} : { ca: await readFile(bmc.caFile) }),
        insecure: bmc.insecure,
        timeoutMs: bmc.timeoutSeconds * 1000,
      },
    })),
  );
  return {
    rpcUrl: config.rpcUrl,
    deployments: at(config.deployments),
    key: { keystore: config.key.keystore, passwordFile: config.key.passwordFile },
    databasePath: resolve(at(config.dataDir), "agent.sqlite"),
    nodes,
    ...(config.usage === undefined ? {} : { usage: config.usage }),
    options: {
      confirmations: config.confirmations,
      pollIntervalMs: config.pollIntervalMs,
      ...(config.startBlock === undefined ? {} : { startBlock: config.startBlock }),
      meterIntervalMs: config.meterIntervalSeconds * 1000,
      power: { timeoutMs: config.power.timeoutSeconds * 1000, pollMs: config.power.pollMs },
      ...(config.wipe === undefined
        ? {}
        : { wipe: { image: config.wipe.image, timeoutMs: config.wipe.timeoutSeconds * 1000 } }),
    },
  };
}
