import { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";

/**
 * How a local chain (Hardhat's EDR) behaves. `blockSeconds: 0` mines a block for each transaction
 * (fast tests); a positive period mines on that interval, as a QBFT network does, so transactions
 * sent together share blocks and deadlines meet real block times.
 */
export interface LocalChainOptions {
  blockSeconds?: number;
  /** EDR's hardfork name, e.g. "berlin" (legacy transactions only, no fee market) as on Quorum. */
  hardfork?: string;
  /** A QBFT network's usual block gas limit; EDR's default is twice this. */
  blockGasLimit?: bigint;
}

/** The period and rules of a GoQuorum or Besu QBFT network, as the tests that touch rounds run them. */
export const QUORUM_LIKE: Required<LocalChainOptions> = {
  blockSeconds: 2,
  hardfork: "berlin",
  blockGasLimit: 30_000_000n,
};

/** Serves a local chain over JSON-RPC on `host:port` (0: any free port). */
export async function serveLocalChain(
  host: string,
  port: number,
  options: LocalChainOptions = {},
): Promise<JsonRpcServer> {
  const blockSeconds = options.blockSeconds ?? 0;
  return network.createServer(
    {
      network: "hardhat",
      override: {
        ...(options.hardfork === undefined ? {} : { hardfork: options.hardfork }),
        ...(options.blockGasLimit === undefined ? {} : { blockGasLimit: options.blockGasLimit }),
        // First come, first mined, as a network that prices no gas orders its pool.
        mining: {
          mempool: { order: "fifo" as const },
          ...(blockSeconds > 0 ? { auto: false, interval: blockSeconds * 1000 } : {}),
        },
      },
    },
    host,
    port,
  );
}
