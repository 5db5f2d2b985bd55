import { ManagedSigner, createProvider, loadWallet, openDeployment, transactionDefaultsFor } from "../../sdk/index.js";
import type { Logger } from "../../sdk/log.js";
import { ProviderAgent } from "./agent.js";
import type { ResolvedAgentConfig } from "./config.js";
import { AgentStore } from "./store.js";
import { startUsageEndpoint, type UsageEndpoint } from "./usage-server.js";

/** A running agent process's parts, to stop together. */
export interface RunningAgent {
  agent: ProviderAgent;
  store: AgentStore;
  /** The usage endpoint, when the configuration asks for one. */
  usage: UsageEndpoint | undefined;
  close(): Promise<void>;
}

/** Opens the chain, the key and the store a configuration names, and starts the agent. */
export async function startAgent(config: ResolvedAgentConfig, logger: Logger): Promise<RunningAgent> {
  const provider = createProvider(config.rpcUrl);
  const store = await AgentStore.open(config.databasePath);
  let usage: UsageEndpoint | undefined;
  try {
    const wallet = await loadWallet(config.key, provider);
    const signer = new ManagedSigner(wallet, await transactionDefaultsFor(provider));
    const { deployment, contracts } = await openDeployment(signer, config.deployments);
    const agent = new ProviderAgent({
      provider,
      deployment,
      contracts,
      store,
      nodes: config.nodes,
      logger,
      options: config.options,
    });
    usage =
      config.usage === undefined ? undefined : await startUsageEndpoint(store, config.usage.host, config.usage.port);
    await agent.start();
    return {
      agent,
      store,
      usage,
      async close() {
        await usage?.close();
        await agent.stop();
        store.close();
        provider.destroy();
      },
    };
  } catch (error) {
    await usage?.close();
    store.close();
    provider.destroy();
    throw error;
  }
}
