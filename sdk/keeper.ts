import type { ContractTransactionResponse, Provider, TransactionReceipt } from "ethers";

import { clearingChunk } from "./clearing.js";
import type { MarketContracts } from "./contracts.js";
import type { Deployment } from "./deployment.js";
import { EndReason, nameOf } from "./enums.js";
import { withDecodedRevert } from "./errors.js";
import { eventsOfReceipt, fetchEvents, type MarketEvent, type MarketEventNamed } from "./events.js";
import { KEEPER_EVENTS, OpenWork, classifyFailure, taskKey, type KeeperTask } from "./keeper-work.js";
import type { Logger } from "./log.js";
import { confirmed } from "./receipts.js";

export interface KeeperOptions {
  /** Pause between passes. */
  pollIntervalMs: number;
  /** Blocks behind the head whose events are taken: 0 on a chain with instant finality (QBFT). */
  confirmations: number;
  /** Most blocks fetched in one `eth_getLogs`. */
  blockRange: number;
  /** Most transactions in flight at once (the signer pipelines their nonces). */
  maxInFlight: number;
}

export const DEFAULT_KEEPER_OPTIONS: Readonly<KeeperOptions> = {
  pollIntervalMs: 5_000,
  confirmations: 0,
  blockRange: 2_000,
  maxInFlight: 32,
};

export interface KeeperDependencies {
  provider: Provider;
  deployment: Deployment;
  /** The contracts bound to the account that pays the keeper's gas: a `ManagedSigner`, for many sends at once. */
  contracts: MarketContracts;
  logger?: Logger;
  options?: Partial<KeeperOptions>;
}

/** The first chunk a round's clearing is tried with; later ones follow what fitted. */
const FIRST_CLEARING_CHUNK = 64;
/** What this keeper did since it was made: its own transactions only. */
export interface KeeperCounters {
  /** Unrevealed bids forfeited (penalty to the treasury, the rest back to the bidder). */
  forfeited: number;
  /** Leases settled at their end: the seller paid. */
  settled: number;
  /** Pending leases settled past their grace: the buyer refunded. */
  refunded: number;
  /** Rounds cleared to the end. */
  cleared: number;
  /** Tasks someone else did first. */
  superseded: number;
  /** Sends that failed in a way worth another try (out of gas, a timing revert, the chain not answering). */
  retries: number;
}

export interface KeeperStatus {
  running: boolean;
  /** The last block whose events were taken in; before the deployment block until the first pass. */
  scannedBlock: number;
  open: ReturnType<OpenWork["size"]>;
  counters: KeeperCounters;
}

/** A refusal nobody expects is tried again after 2, 4, ... passes, at most this many. */
const MAX_HOLD_PASSES = 64;

/**
 * Sends the market's permissionless housekeeping so that no credit stays locked because some
 * process forgot: forfeits unrevealed bids, settles leases past their end or their grace, and
 * clears rounds. It takes the deployment's events in from its block on, keeps the open work in
 * memory (`OpenWork`), and at each pass sends whatever the latest block's time makes due, many at
 * once, each outcome read from its receipt. `start`/`stop` may be called again and again (e.g. by
 * a leader election): the work taken in is kept.
 */
export class Keeper {
  readonly options: KeeperOptions;
  readonly #deps: KeeperDependencies;
  readonly #log: Logger | undefined;
  readonly #work: OpenWork;
  readonly #counters: KeeperCounters = { forfeited: 0, settled: 0, refunded: 0, cleared: 0, superseded: 0, retries: 0 };
  /** Refused tasks held back: until which pass, and how often they were refused. */
  readonly #held = new Map<string, { untilPass: number; refusals: number }>();
  #scannedBlock: number;
  #passes = 0;
  #pass: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(deps: KeeperDependencies) {
    this.#deps = deps;
    this.#log = deps.logger;
    this.options = { ...DEFAULT_KEEPER_OPTIONS, ...deps.options };
    this.#work = new OpenWork({
      schedule: deps.deployment.schedule,
      provisionGraceSeconds: deps.deployment.provisionGraceSeconds,
    });
    this.#scannedBlock = deps.deployment.blockNumber - 1;
  }

  /** Passes every `pollIntervalMs` until `stop`; a pass that fails is logged and the next one runs. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#stopping = false;
    this.#loop = this.#follow();
  }

  /** Lets the pass under way finish its transactions (sending no new ones) and runs no more. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    await this.#pass;
    this.#loop = undefined;
    // Stopped, not disabled: a later `pass` or `start` sends again.
    this.#stopping = false;
  }

  status(): KeeperStatus {
    return {
      running: this.#loop !== undefined && !this.#stopping,
      scannedBlock: this.#scannedBlock,
      open: this.#work.size(),
      counters: { ...this.#counters },
    };
  }

  /** One pass: takes new events in, then sends what is due and waits for the outcomes. One at a time. */
  pass(): Promise<void> {
    this.#pass ??= this.#runPass().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  async #follow(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.pass();
      } catch (error) {
        this.#log?.warn("keeper: the chain did not answer; will try again", { error });
      }
      if (this.#stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollIntervalMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #runPass(): Promise<void> {
    const head = await this.#deps.provider.getBlock("latest");
    if (head === null) throw new Error("the chain has no latest block");
    await this.#scan(head.number - this.options.confirmations);
    this.#passes += 1;
    const due = this.#work.due(head.timestamp).filter((task) => {
      const held = this.#held.get(taskKey(task));
      return held === undefined || held.untilPass <= this.#passes;
    });
    if (due.length === 0) return;
    let next = 0;
    const worker = async () => {
      while (!this.#stopping) {
        const task = due[next++];
        if (task === undefined) return;
        await this.#run(task, head.gasLimit);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.maxInFlight, due.length) }, worker));
    this.#log?.debug("keeper: pass done", { block: head.number, ...this.status() });
  }

  /** Takes in the followed events of the blocks after the last scanned, up to `to`. */
  async #scan(to: number): Promise<void> {
    const { provider, deployment } = this.#deps;
    for (let from = this.#scannedBlock + 1; from <= to; from = this.#scannedBlock + 1) {
      const until = Math.min(to, from + this.options.blockRange - 1);
      const batches = await Promise.all(
        (["market", "leases"] as const).map((contract) =>
          fetchEvents(provider, deployment, from, until, { contract, events: KEEPER_EVENTS[contract] }),
        ),
      );
      // Each contract's events come in chain order; what the keeper keeps never mixes the two.
      for (const events of batches) for (const event of events) this.#work.apply(event);
      this.#scannedBlock = until;
    }
  }

  /** Runs one task and books its outcome; never throws. */
  async #run(task: KeeperTask, blockGasLimit: bigint): Promise<void> {
    const key = taskKey(task);
    try {
      if (task.kind === "forfeit") await this.#forfeit(task);
      else if (task.kind === "settle") await this.#settle(task);
      // Stopped between two chunks: the round stays open work.
      else if (!(await this.#clear(task, blockGasLimit))) return;
      this.#work.drop(task, "done");
      this.#held.delete(key);
    } catch (error) {
      const failure = classifyFailure(task, error);
      if (failure === "superseded") {
        this.#work.drop(task, "superseded");
        this.#held.delete(key);
        this.#counters.superseded += 1;
        this.#log?.debug("keeper: done by someone else", { task: key, error });
      } else if (failure === "notYet") {
        this.#log?.debug("keeper: not due yet on-chain", { task: key, error });
      } else if (failure === "retry") {
        this.#counters.retries += 1;
        this.#log?.warn("keeper: send failed; will try again", { task: key, error });
      } else {
        const refusals = (this.#held.get(key)?.refusals ?? 0) + 1;
        const passes = Math.min(2 ** refusals, MAX_HOLD_PASSES);
        this.#held.set(key, { untilPass: this.#passes + passes, refusals });
        this.#log?.warn("keeper: refused; holding the task back", { task: key, passes, error });
      }
    }
  }

  async #forfeit(task: Extract<KeeperTask, { kind: "forfeit" }>): Promise<void> {
    const { market } = this.#deps.contracts;
    const receipt = await this.#send(() => market.forfeitUnrevealed(task.bidder, task.commitment));
    const forfeited = this.#eventOf(receipt, "BidForfeited");
    this.#counters.forfeited += 1;
    this.#log?.info("keeper: forfeited an unrevealed bid", {
      roundId: task.roundId,
      bidder: task.bidder,
      commitment: task.commitment,
      penalty: forfeited?.args.penalty,
      refund: forfeited?.args.refund,
      txHash: receipt.hash,
    });
  }

  async #settle(task: Extract<KeeperTask, { kind: "settle" }>): Promise<void> {
    const { leases } = this.#deps.contracts;
    const receipt = await this.#send(() => leases.settle(task.leaseId));
    const ended = this.#eventOf(receipt, "LeaseEnded");
    const timedOut = ended !== undefined && Number(ended.args.reason) === EndReason.TimedOut;
    if (timedOut) this.#counters.refunded += 1;
    else this.#counters.settled += 1;
    this.#log?.info(timedOut ? "keeper: refunded a lease its agent never provisioned" : "keeper: settled a lease", {
      leaseId: task.leaseId,
      reason: ended === undefined ? undefined : nameOf(EndReason, ended.args.reason),
      paid: ended?.args.paid,
      refund: ended?.args.refund,
      txHash: receipt.hash,
    });
  }

  /**
   * Clears a round chunk after chunk, each sized to the block (`clearingChunk`), until it is
   * cleared (true) or the keeper stops (false).
   */
  async #clear(task: Extract<KeeperTask, { kind: "clear" }>, blockGasLimit: bigint): Promise<boolean> {
    const { market } = this.#deps.contracts;
    let left = task.bids;
    // Each chunk is tried at twice the last one's size: starting from the whole round would
    // estimate (execute) thousands of bids for every chunk before halving down to what fits.
    let upTo = Math.min(left, FIRST_CLEARING_CHUNK);
    for (let chunks = 1; !this.#stopping; chunks += 1) {
      const chunk = await clearingChunk(
        (maxBids) => withDecodedRevert(() => market.clearRound.estimateGas(task.roundId, maxBids)),
        blockGasLimit,
        upTo,
      );
      const receipt = await this.#send(() =>
        market.clearRound(task.roundId, chunk.maxBids, { gasLimit: chunk.gasLimit }),
      );
      const cleared = this.#eventOf(receipt, "RoundCleared");
      if (cleared !== undefined) {
        this.#counters.cleared += 1;
        this.#log?.info("keeper: cleared a round", {
          roundId: task.roundId,
          bids: Number(cleared.args.bids),
          matched: Number(cleared.args.matched),
          chunks,
          txHash: receipt.hash,
        });
        return true;
      }
      left = Math.max(1, left - chunk.maxBids);
      upTo = Math.min(left, chunk.maxBids * 2);
    }
    return false;
  }

  /** Sends and waits for the receipt: refusals as `MarketRevertError`, gas or timing reverts as `MinedRevertError`. */
  async #send(action: () => Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
    return confirmed(await withDecodedRevert(action));
  }

  #eventOf<N extends MarketEvent["name"]>(receipt: TransactionReceipt, name: N): MarketEventNamed<N> | undefined {
    return eventsOfReceipt(this.#deps.deployment, receipt).find(
      (event): event is MarketEventNamed<N> => event.name === name,
    );
  }
}
