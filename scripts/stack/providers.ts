import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { getAddress } from "ethers";

import type { GatewayClient } from "../../api/client.js";
import { enrollmentProfile } from "../../oracle/agent/enroll.js";
import { createKeystore } from "../../sdk/index.js";
import { exists, secretFile } from "./files.js";

/** The simulated BMCs' user; their password is a secret of the data directory. */
export const BMC_USER = "admin";

/** The two provider tenants that own the simulated machines, in the users' words. */
export const LOCAL_PROVIDERS = [
  { slug: "northwind", name: "Northwind Racks", owner: "Olivia Owner", email: "olivia@northwind.example" },
  { slug: "bluefin", name: "Bluefin Compute", owner: "Omar Owner", email: "omar@bluefin.example" },
] as const;

export interface SimulatedBmcAddress {
  url: string;
  systemId: string;
}

/** A provider tenant of the local stack: who it is, its agent's account, its nodes and their BMCs. */
export interface LocalProvider {
  slug: string;
  name: string;
  tenantId: number;
  email: string;
  agent: { address: string; keystore: string; passwordFile: string };
  nodes: { nodeId: number; bmc: number }[];
}

/** An agent's account, kept encrypted in the data directory's secrets across chains. */
export async function agentKey(secrets: string, slug: string): Promise<LocalProvider["agent"]> {
  const keystore = join(secrets, `agent-${slug}.keystore.json`);
  const { file: passwordFile, value: password } = await secretFile(join(secrets, `agent-${slug}.password`));
  if (!(await exists(keystore))) await createKeystore(keystore, password);
  // A keystore names its account in the clear; no need to decrypt it here.
  const { address } = JSON.parse(await readFile(keystore, "utf8")) as { address: string };
  return { address: getAddress(`0x${address.replace(/^0x/, "")}`), keystore, passwordFile };
}

/**
 * Creates the provider tenants and their owners through the gateway, and enrolls the simulated
 * machines as their nodes with the profile each BMC reports (the first half of the fleet to the
 * first provider). Each owner's password is `ownerPassword`.
 */
export async function createLocalProviders(options: {
  admin: GatewayClient;
  bmcs: readonly SimulatedBmcAddress[];
  bmcPassword: string;
  ownerPassword: string;
  agents: Record<string, LocalProvider["agent"]>;
  onNode?: () => void;
}): Promise<LocalProvider[]> {
  const { admin, bmcs } = options;
  const share = Math.ceil(bmcs.length / LOCAL_PROVIDERS.length);
  const providers: LocalProvider[] = [];
  for (const [index, provider] of LOCAL_PROVIDERS.entries()) {
    const agent = options.agents[provider.slug];
    if (agent === undefined) throw new Error(`no agent key for ${provider.slug}`);
    const { tenant } = await admin.post<{ tenant: { tenantId: number } }>("/tenants", { name: provider.name });
    const created = await admin.post<{ apiKey: string }>(`/tenants/${tenant.tenantId}/users`, {
      name: provider.owner,
      email: provider.email,
      roles: ["provider", "tenantAdmin"],
      password: options.ownerPassword,
    });
    const owner = admin.as(created.apiKey);
    const nodes: LocalProvider["nodes"] = [];
    for (let bmc = index * share; bmc < Math.min(bmcs.length, (index + 1) * share); bmc++) {
      const address = bmcs[bmc];
      if (address === undefined) continue;
      const profile = await enrollmentProfile(
        { url: address.url, credentials: { username: BMC_USER, password: options.bmcPassword } },
        address.systemId,
      );
      const { node } = await owner.post<{ node: { nodeId: number } }>("/nodes", {
        resources: profile.resources,
        agent: agent.address,
        attributes: profile.attributes,
      });
      nodes.push({ nodeId: node.nodeId, bmc });
      options.onNode?.();
    }
    providers.push({ ...provider, tenantId: tenant.tenantId, agent, nodes });
  }
  return providers;
}

/** The agent configuration (see oracle/README.md) of a local provider's agent. */
export function agentConfig(options: {
  provider: LocalProvider;
  rpcUrl: string;
  deploymentsDir: string;
  dataDir: string;
  bmcs: readonly SimulatedBmcAddress[];
  bmcPasswordFile: string;
  usagePort: number;
  host: string;
}): Record<string, unknown> {
  const { provider, bmcs } = options;
  return {
    rpcUrl: options.rpcUrl,
    deployments: options.deploymentsDir,
    key: { keystore: provider.agent.keystore, passwordFile: provider.agent.passwordFile },
    dataDir: options.dataDir,
    meterIntervalSeconds: 15,
    power: { pollMs: 250 },
    usage: { host: options.host, port: options.usagePort },
    nodes: provider.nodes.map(({ nodeId, bmc }) => {
      const address = bmcs[bmc];
      if (address === undefined) throw new Error(`node ${nodeId}'s BMC ${bmc} is not in the fleet`);
      return {
        nodeId,
        bmc: {
          url: address.url,
          username: BMC_USER,
          passwordFile: options.bmcPasswordFile,
          systemId: address.systemId,
        },
      };
    }),
  };
}
