import type { Provider, TransactionReceipt } from "ethers";

/** How often the watcher looks for new blocks while something is pending. */
const POLL_MS = 250;
/** Pending this long, a transaction is looked up by itself: a block missed, or the node dropped it. */
const SWEEP_AFTER_MS = 30_000;

/** Raised when the node no longer knows a transaction it took: it will never be mined. */
export class DroppedTransactionError extends Error {
  constructor(readonly txHash: string) {
    super(`transaction ${txHash} was dropped by the node before it was mined`);
    this.name = "DroppedTransactionError";
  }
}

interface Waiter {
  since: number;
  /** Looked up once after the blocks it may have landed in were scanned without it. */
  checked: boolean;
  resolve(receipt: TransactionReceipt): void;
  reject(error: unknown): void;
}

/**
 * Waits for many transactions of one provider at once. Each new block is read once, with its
 * transaction hashes, and receipts are fetched only for the transactions waited for that it holds:
 * a burst of thousands of reveals costs one call per block, not one per transaction and block (as
 * ethers' `waitForTransaction` does, whose listeners could also fall silent under such a load).
 */
class ReceiptWatcher {
  readonly #provider: Provider;
  readonly #waiting = new Map<string, Waiter[]>();
  #lastBlock: number | undefined;
  #running = false;

  constructor(provider: Provider) {
    this.#provider = provider;
  }

  async wait(hash: string): Promise<TransactionReceipt> {
    const mined = await this.#provider.getTransactionReceipt(hash);
    if (mined !== null) return mined;
    const receipt = new Promise<TransactionReceipt>((resolve, reject) => {
      const waiters = this.#waiting.get(hash) ?? [];
      waiters.push({ since: performance.now(), checked: false, resolve, reject });
      this.#waiting.set(hash, waiters);
    });
    if (!this.#running) void this.#run();
    return receipt;
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.size > 0) {
        try {
          await this.#pass();
        } catch {
          // The node did not answer: the next pass asks again.
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } finally {
      this.#running = false;
      this.#lastBlock = undefined;
    }
  }

  async #pass(): Promise<void> {
    const head = await this.#provider.getBlockNumber();
    const from = this.#lastBlock === undefined ? head : this.#lastBlock + 1;
    for (let number = from; number <= head; number += 1) {
      const block = await this.#provider.getBlock(number);
      if (block === null) return;
      await Promise.all(block.transactions.filter((hash) => this.#waiting.has(hash)).map((hash) => this.#lookUp(hash)));
      this.#lastBlock = number;
    }
    // A transaction mined between its first lookup and the scan's first block is found here.
    const unchecked = [...this.#waiting].filter(([, waiters]) => waiters.some((waiter) => !waiter.checked));
    for (const [, waiters] of unchecked) for (const waiter of waiters) waiter.checked = true;
    await Promise.all(unchecked.map(([hash]) => this.#lookUp(hash)));
    const now = performance.now();
    const stale = [...this.#waiting].filter(([, waiters]) => now - (waiters[0]?.since ?? now) > SWEEP_AFTER_MS);
    await Promise.all(stale.map(([hash]) => this.#lookUp(hash, true)));
  }

  /** Settles `hash`'s waiters from its receipt; `sweep`: also ends those of a dropped transaction. */
  async #lookUp(hash: string, sweep = false): Promise<void> {
    const receipt = await this.#provider.getTransactionReceipt(hash);
    const waiters = this.#waiting.get(hash) ?? [];
    if (receipt !== null) {
      this.#waiting.delete(hash);
      for (const waiter of waiters) waiter.resolve(receipt);
      return;
    }
    if (!sweep) return;
    if ((await this.#provider.getTransaction(hash)) === null) {
      this.#waiting.delete(hash);
      for (const waiter of waiters) waiter.reject(new DroppedTransactionError(hash));
    } else {
      for (const waiter of waiters) waiter.since = performance.now();
    }
  }
}

const watchers = new WeakMap<Provider, ReceiptWatcher>();

/** `hash`'s receipt once it is mined, through the one watcher of `provider`. */
export function receiptOf(provider: Provider, hash: string): Promise<TransactionReceipt> {
  let watcher = watchers.get(provider);
  if (watcher === undefined) {
    watcher = new ReceiptWatcher(provider);
    watchers.set(provider, watcher);
  }
  return watcher.wait(hash);
}
