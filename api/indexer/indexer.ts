import type { Provider } from "ethers";

import { fetchEvents, type Deployment, type MarketEvent } from "../../sdk/index.js";
import type { Db } from "../db/database.js";
import { repeat, type Repeating } from "../repeat.js";
import type { AuditRecord } from "../records.js";
import { argsToJson, project, type StoredEvent } from "./projection.js";
import { auditRecordOf } from "./record.js";
import { PROJECTED_TABLES, READ_MODEL_SCHEMA, READ_MODEL_TABLES, eventId } from "./schema.js";

export interface IndexerOptions {
  /** Blocks a block must be buried under before it is indexed; 0 on a chain with instant finality. */
  confirmations: number;
  pollIntervalMs: number;
  /** Most blocks fetched in one `eth_getLogs`. */
  blockRange: number;
  /** How far back a reorganisation is looked for; block hashes this deep are kept. */
  reorgDepth: number;
}

export const DEFAULT_INDEXER_OPTIONS: IndexerOptions = {
  confirmations: 0,
  pollIntervalMs: 250,
  blockRange: 2000,
  reorgDepth: 64,
};

/** How deep a fork found at start-up may be and still count as a reorganisation, not another chain. */
const SHALLOW_REORG_BLOCKS = 12;
/** How often a follower waiting for a block looks whether the leader has indexed it. */
const FOLLOWER_WAIT_MS = 50;

/** An indexed event with where it sits on the chain, as handed to listeners. */
export interface IndexedEvent extends StoredEvent {
  transactionHash: string;
  logIndex: number;
  blockHash: string;
}

/** The read model was built from another chain or deployment than the one configured. */
export class ReadModelMismatchError extends Error {
  constructor(stored: string, expected: string) {
    super(
      `the read model was built from ${stored}, but the gateway is configured for ${expected}: ` +
        "the chain was reset or the settings changed; rebuild the read model (delete it or start with --rebuild)",
    );
    this.name = "ReadModelMismatchError";
  }
}

export interface IndexerStatus {
  /** The last block indexed, or `undefined` before the first. */
  indexedBlock: number | undefined;
  /** That block's time (unix seconds). */
  indexedTime: number | undefined;
  chainHead: number | undefined;
  /** Blocks the read model is behind the chain's head. */
  lagBlocks: number;
  reorgs: number;
}

/**
 * Follows the market's events into the read model: stores each event with its chain location,
 * projects it, and survives restarts (a checkpoint in the same transaction as the events) and
 * reorganisations (block hashes are checked; on a fork, the orphaned events are deleted and the
 * projections replayed from the events that remain).
 *
 * Of several gateway replicas on one database, the leader indexes (`start`); the others `follow`:
 * they write nothing and track how far the leader got, so their reads and their read-your-writes
 * waits follow the shared read model.
 */
export class Indexer {
  readonly #db: Db;
  readonly #provider: Provider;
  readonly #deployment: Deployment;
  readonly #options: IndexerOptions;
  readonly #listeners = new Set<(events: IndexedEvent[]) => void>();
  #loop: Repeating | undefined;
  #stopping = false;
  /** Indexing (the leader), as opposed to following another replica's indexing. */
  #leading = false;
  #chainHead: number | undefined;
  #indexedBlock: number | undefined;
  #indexedTime: number | undefined;
  #reorgs = 0;
  #generation = 0;

  constructor(db: Db, provider: Provider, deployment: Deployment, options: Partial<IndexerOptions> = {}) {
    this.#db = db;
    this.#provider = provider;
    this.#deployment = deployment;
    this.#options = { ...DEFAULT_INDEXER_OPTIONS, ...options };
  }

  /** Creates the tables and checks that the stored model belongs to this chain and deployment. */
  async open(): Promise<void> {
    await this.#db.exec(READ_MODEL_SCHEMA);
    const expected = await this.#identity();
    const stored = await this.#state("identity");
    if (stored === undefined) await this.#setState("identity", expected);
    else if (stored !== expected) throw new ReadModelMismatchError(stored, expected);
    await this.#readIndexedBlock();
    await this.#requireSameHistory();
  }

  /**
   * A reorganisation replaces a few recent blocks. A chain that lacks the newest indexed block
   * and forks deeper than that, or whose head is far behind it, is another chain altogether (a
   * local chain restarted, another network under the same addresses): refuse it, do not mix.
   */
  async #requireSameHistory(): Promise<void> {
    const kept = await this.#db.all<{ number: number; hash: string }>(
      "SELECT number, hash FROM indexed_blocks ORDER BY number DESC",
    );
    const newest = kept[0];
    if (newest === undefined) return;
    if ((await this.#provider.getBlock(Number(newest.number)))?.hash === newest.hash) return;
    let match: number | undefined;
    for (const block of kept.slice(1)) {
      if ((await this.#provider.getBlock(Number(block.number)))?.hash === block.hash) {
        match = Number(block.number);
        break;
      }
    }
    const head = await this.#provider.getBlockNumber();
    const shallow = match !== undefined && Number(newest.number) - match <= SHALLOW_REORG_BLOCKS;
    if (shallow && head >= Number(newest.number) - SHALLOW_REORG_BLOCKS) return;
    throw new ReadModelMismatchError(
      `a chain whose block ${newest.number} was ${newest.hash}`,
      `chain ${this.#deployment.chainId} (head ${head}), which does not have that block`,
    );
  }

  /** Calls `listener` with each batch of newly indexed events, after they are committed. */
  onEvents(listener: (events: IndexedEvent[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts indexing the chain; a failed poll goes to `onError` and the next one tries again. */
  start(onError: (error: unknown) => void): void {
    this.#stopping = false;
    this.#leading = true;
    this.#loop = repeat(
      async () => {
        // Catching up may take many ranges; a stop is honoured between them.
        while (!this.#stopping && (await this.syncOnce()));
      },
      this.#options.pollIntervalMs,
      onError,
    );
  }

  /**
   * Starts following another replica's indexing: the chain's head and the newest block in the read
   * model, polled, for `status` and `waitFor`. Writes nothing.
   */
  follow(onError: (error: unknown) => void): void {
    this.#loop = repeat(
      async () => {
        this.#chainHead = await this.#provider.getBlockNumber();
        await this.#readIndexedBlock();
      },
      this.#options.pollIntervalMs,
      onError,
    );
  }

  /** Stops indexing or following, once the pass under way is done. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop?.stop();
    this.#leading = false;
  }

  status(): IndexerStatus {
    const head = this.#chainHead;
    const indexed = this.#indexedBlock;
    const target = head === undefined ? undefined : head - this.#options.confirmations;
    return {
      indexedBlock: indexed,
      indexedTime: this.#indexedTime,
      chainHead: head,
      lagBlocks: target === undefined ? 0 : Math.max(0, target - (indexed ?? this.#deployment.blockNumber - 1)),
      reorgs: this.#reorgs,
    };
  }

  /**
   * Moves on whenever the read model's content changes (events stored, or rolled back after a
   * reorganisation): what was worked out from it before may be out of date.
   */
  generation(): number {
    return this.#generation;
  }

  /** Waits until every block up to the chain's current head (less confirmations) is indexed. */
  async catchUp(): Promise<void> {
    while (await this.syncOnce());
  }

  /**
   * Waits until block `blockNumber` is indexed: by this replica, when it leads; by the leader, as
   * the read model shows, when it follows. Callers waiting together share one sync (or look), so
   * many writes landing at once cost one round of reads, not one each.
   */
  async waitFor(blockNumber: number): Promise<void> {
    while ((this.#indexedBlock ?? -1) < blockNumber) {
      this.#shared ??= (this.#leading ? this.syncOnce() : this.#readIndexedBlockSoon()).finally(
        () => (this.#shared = undefined),
      );
      await this.#shared;
    }
  }

  #shared: Promise<unknown> | undefined;

  async #readIndexedBlockSoon(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, FOLLOWER_WAIT_MS));
    await this.#readIndexedBlock();
  }

  async #readIndexedBlock(): Promise<void> {
    const last = await this.#db.get<IndexedBlock>(
      "SELECT number, hash, timestamp FROM indexed_blocks ORDER BY number DESC LIMIT 1",
    );
    this.#noteIndexed(last);
  }

  /** Where the read model stands, as read from it: another replica may have indexed since. */
  #noteIndexed(newest: IndexedBlock | undefined): void {
    const number = newest === undefined ? undefined : Number(newest.number);
    // Answers worked out from the read model before another replica's writes are stale.
    if (number !== this.#indexedBlock) this.#generation += 1;
    this.#indexedBlock = number;
    this.#indexedTime = newest === undefined ? undefined : Number(newest.timestamp);
  }

  /**
   * Indexes the next range of blocks. Returns true when there may be more to index at once.
   * Safe to call concurrently with the poller: calls run one at a time.
   */
  syncOnce(): Promise<boolean> {
    const run = this.#serial.then(() => this.#sync());
    this.#serial = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #serial: Promise<void> = Promise.resolve();

  async #sync(): Promise<boolean> {
    const head = await this.#provider.getBlockNumber();
    this.#chainHead = head;
    const kept = await this.#db.all<IndexedBlock>(
      "SELECT number, hash, timestamp FROM indexed_blocks ORDER BY number DESC",
    );
    this.#noteIndexed(kept[0]);
    if (await this.#handleReorg(kept)) return true;
    const target = head - this.#options.confirmations;
    const from = (this.#indexedBlock ?? this.#deployment.blockNumber - 1) + 1;
    if (from > target) return false;
    const to = Math.min(target, from + this.#options.blockRange - 1);

    const events = await fetchEvents(this.#provider, this.#deployment, from, to);
    // Block times come with the logs from most nodes; other blocks are read, and so is the range's
    // last block, whose hash the next sync checks for a reorganisation.
    const blocks = new Map<number, { hash: string; timestamp: number }>();
    for (const event of events) {
      if (event.blockTimestamp !== undefined) {
        blocks.set(event.blockNumber, { hash: event.blockHash, timestamp: event.blockTimestamp });
      }
    }
    const unread = new Set([...events.filter((e) => !blocks.has(e.blockNumber)).map((e) => e.blockNumber), to]);
    const read = await Promise.all(
      [...unread].map(async (number) => {
        const block = await this.#provider.getBlock(number);
        if (block === null || block.hash === null) throw new Error(`block ${number} is not available`);
        return [number, { hash: block.hash, timestamp: block.timestamp }] as const;
      }),
    );
    for (const [number, block] of read) blocks.set(number, block);
    // Logs and blocks read at different moments must agree, or a reorganisation came in between.
    if (events.some((event) => blocks.get(event.blockNumber)?.hash !== event.blockHash)) return true;

    const indexed = events.map((event) => toIndexed(event, blocks.get(event.blockNumber)?.timestamp ?? 0));
    await this.#db.transaction(async (tx) => {
      for (const event of indexed) {
        await tx.run(
          `INSERT INTO events (id, block_number, log_index, tx_hash, block_hash, timestamp, contract, name, record)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            event.id,
            event.blockNumber,
            event.logIndex,
            event.transactionHash,
            event.blockHash,
            event.timestamp,
            event.contract,
            event.name,
            JSON.stringify(auditRecordOf(event, this.#deployment)),
          ],
        );
        await project(tx, event);
      }
      for (const [number, block] of blocks) {
        await tx.run(
          `INSERT INTO indexed_blocks (number, hash, timestamp) VALUES ($1, $2, $3)
           ON CONFLICT (number) DO UPDATE SET hash = $2, timestamp = $3`,
          [number, block.hash, block.timestamp],
        );
      }
      await tx.run("DELETE FROM indexed_blocks WHERE number < $1 AND number <> $2", [
        to - this.#options.reorgDepth,
        to,
      ]);
    });
    this.#indexedBlock = to;
    this.#indexedTime = blocks.get(to)?.timestamp;
    if (indexed.length > 0) {
      this.#generation += 1;
      for (const listener of this.#listeners) listener(indexed);
    }
    return to < target;
  }

  /** Finds whether the chain forked below the `kept` blocks' hashes; if so, rolls the read model back. */
  async #handleReorg(kept: readonly IndexedBlock[]): Promise<boolean> {
    let fork: number | undefined;
    for (const block of kept) {
      const onChain = await this.#provider.getBlock(block.number);
      if (onChain?.hash === block.hash) break;
      fork = block.number;
    }
    if (fork === undefined) return false;
    // Everything from the first block that no longer matches is orphaned: delete it and replay.
    const below = kept.find((block) => block.number < (fork ?? 0));
    const keepBelow = below?.number ?? this.#deployment.blockNumber - 1;
    await this.#db.transaction(async (tx) => {
      await tx.run("DELETE FROM event_links WHERE event_id >= $1", [eventId(keepBelow + 1, 0)]);
      await tx.run("DELETE FROM events WHERE block_number > $1", [keepBelow]);
      await tx.run("DELETE FROM indexed_blocks WHERE number > $1", [keepBelow]);
      await replay(tx);
    });
    this.#indexedBlock = keepBelow;
    this.#indexedTime = below === undefined ? undefined : Number(below.timestamp);
    this.#generation += 1;
    this.#reorgs += 1;
    return true;
  }

  async #identity(): Promise<string> {
    const block = await this.#provider.getBlock(this.#deployment.blockNumber);
    if (block === null) {
      throw new ReadModelMismatchError(
        "a configured deployment",
        `chain ${this.#deployment.chainId}, whose block ${this.#deployment.blockNumber} does not exist`,
      );
    }
    return `chain ${this.#deployment.chainId}, market ${this.#deployment.contracts.market}, deployed in block ${block.hash}`;
  }

  async #state(key: string): Promise<string | undefined> {
    return (await this.#db.get<{ value: string }>("SELECT value FROM indexer_state WHERE key = $1", [key]))?.value;
  }

  async #setState(key: string, value: string): Promise<void> {
    await this.#db.run(
      "INSERT INTO indexer_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
      [key, value],
    );
  }
}

/** Empties the projections and applies every stored event again, in chain order. */
async function replay(db: Db): Promise<void> {
  await db.run("DELETE FROM event_links");
  for (const table of PROJECTED_TABLES) await db.run(`DELETE FROM ${table}`);
  const rows = await db.all<EventRow>("SELECT * FROM events ORDER BY id");
  for (const row of rows) await project(db, storedEventOf(row));
}

/** Drops the whole read model; the next `Indexer.open` starts it again from the deployment block. */
export async function dropReadModel(db: Db): Promise<void> {
  for (const table of READ_MODEL_TABLES) await db.exec(`DROP TABLE IF EXISTS ${table}`);
}

/** An `events` row as the database returns it. */
/** A block the read model holds the hash of, to notice a reorganisation. */
interface IndexedBlock {
  number: number;
  hash: string;
  timestamp: number;
}

export interface EventRow {
  id: number;
  block_number: number;
  log_index: number;
  tx_hash: string;
  block_hash: string;
  timestamp: number;
  contract: string;
  name: string;
  /** The event's audit record, as JSON (`auditRecordOf`). */
  record: string;
}

export function storedEventOf(row: EventRow): IndexedEvent {
  return {
    id: Number(row.id),
    blockNumber: Number(row.block_number),
    logIndex: Number(row.log_index),
    transactionHash: row.tx_hash,
    blockHash: row.block_hash,
    timestamp: Number(row.timestamp),
    contract: row.contract,
    name: row.name,
    args: (JSON.parse(row.record) as AuditRecord).args,
  };
}

function toIndexed(event: MarketEvent, timestamp: number): IndexedEvent {
  return {
    id: eventId(event.blockNumber, event.logIndex),
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    transactionHash: event.transactionHash,
    blockHash: event.blockHash,
    timestamp,
    contract: event.contract,
    name: event.name,
    // Projected in the form it is stored in, so a replay sees exactly the same values.
    args: JSON.parse(argsToJson(event.args)) as Record<string, unknown>,
  };
}
