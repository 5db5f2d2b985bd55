import type { JsonRpcApiProvider } from "ethers";

/** What the chain's clock says now. */
export interface ChainNow {
  /** The latest block's time (unix seconds). */
  head: number;
  /** Seconds between blocks: configured, or measured over recent blocks; 0 when blocks come on demand. */
  blockSeconds: number;
  /**
   * The earliest time the next block can carry: a transaction sent now is mined at this time or
   * later. Deadlines are checked against it, which keeps one block period of margin.
   */
  next: number;
}

/** Blocks over which the spacing is measured, and how long a measurement holds. */
const SPACING_BLOCKS = 16;
const SPACING_TTL_MS = 60_000;
/** A measured spacing above this is idle time on a chain that mines on demand, not a block period. */
const MAX_MEASURED_BLOCK_SECONDS = 30;

interface Header {
  number: string;
  timestamp: string;
}

/**
 * The chain's clock: `blockSeconds` when the chain's block period is known (`chain.blockSeconds`;
 * 0 for a chain that mines a block per transaction), else measured. Callers asking together share
 * one read of the head.
 */
export function chainClock(provider: JsonRpcApiProvider, blockSeconds?: number): () => Promise<ChainNow> {
  let reading: Promise<Header> | undefined;
  let spacing: { at: number; seconds: Promise<number> } | undefined;
  const header = (tag: string) => provider.send("eth_getBlockByNumber", [tag, false]) as Promise<Header>;
  const measure = async (latest: Header): Promise<number> => {
    const last = Number(latest.number);
    if (last === 0) return 1;
    const first = await header(`0x${Math.max(0, last - SPACING_BLOCKS).toString(16)}`);
    const seconds = (Number(latest.timestamp) - Number(first.timestamp)) / (last - Number(first.number));
    return Math.min(MAX_MEASURED_BLOCK_SECONDS, Math.max(1, Math.round(seconds)));
  };
  return async () => {
    reading ??= header("latest").finally(() => (reading = undefined));
    const latest = await reading;
    let period = blockSeconds;
    if (period === undefined) {
      if (spacing === undefined || performance.now() - spacing.at > SPACING_TTL_MS) {
        spacing = { at: performance.now(), seconds: measure(latest) };
        spacing.seconds.catch(() => (spacing = undefined));
      }
      period = await spacing.seconds;
    }
    const head = Number(latest.timestamp);
    return { head, blockSeconds: period, next: nextBlockTime(head, period) };
  };
}

/**
 * The earliest time the next block can carry (`ChainNow.next`), from the head's time and the
 * block period: a block mined on demand comes now, a second after the head at the earliest.
 */
export function nextBlockTime(head: number, blockSeconds: number, wallNow = Math.floor(Date.now() / 1000)): number {
  return Math.max(head + Math.max(blockSeconds, 1), wallNow);
}
