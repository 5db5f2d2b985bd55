import type { Provider } from "ethers";

import type { Db } from "./db/database.js";

const RECORD_INTERVAL_MS = 1000;

/** The gateway's state belongs to another chain than the one it is pointed at. */
export class ChainMismatchError extends Error {
  constructor(detail: string) {
    super(
      `${detail}: the chain was reset or this is another network. Point rpcUrl at the chain this state ` +
        "belongs to, or start with a fresh database (data directory).",
    );
    this.name = "ChainMismatchError";
  }
}

/**
 * Ties the gateway's own state (users, keys, sealed bids) to the chain its writes went to: the
 * newest block holding one of its transactions is remembered, and at start that block must still
 * be on the chain. A restarted local chain replays the same deployment, so the read model alone
 * cannot tell; the gateway's writes can.
 */
export class ChainBinding {
  readonly #db: Db;
  #newest = 0;
  #recordedAt = -Infinity;

  private constructor(db: Db) {
    this.#db = db;
  }

  static async open(db: Db, provider: Provider): Promise<ChainBinding> {
    const binding = new ChainBinding(db);
    const row = await db.get<{ value: string }>("SELECT value FROM gateway_meta WHERE key = 'lastWrite'");
    if (row !== undefined) {
      const { blockNumber, blockHash } = JSON.parse(row.value) as { blockNumber: number; blockHash: string };
      const block = await provider.getBlock(blockNumber);
      if (block?.hash !== blockHash) {
        throw new ChainMismatchError(
          `the gateway's state holds a transaction in block ${blockNumber} (${blockHash}), ` +
            (block === null
              ? "which this chain has not reached"
              : `but this chain's block ${blockNumber} is ${block.hash}`),
        );
      }
      binding.#newest = blockNumber;
    }
    return binding;
  }

  /**
   * Remembers a block holding one of the gateway's transactions, if it is the newest so far; at
   * most once a second, since any block of its own will do to recognise the chain.
   */
  async record(blockNumber: number, blockHash: string): Promise<void> {
    if (blockNumber <= this.#newest || performance.now() - this.#recordedAt < RECORD_INTERVAL_MS) return;
    this.#newest = blockNumber;
    this.#recordedAt = performance.now();
    await this.#db.run(
      `INSERT INTO gateway_meta (key, value) VALUES ('lastWrite', $1) ON CONFLICT (key) DO UPDATE SET value = $1`,
      [JSON.stringify({ blockNumber, blockHash })],
    );
  }
}
