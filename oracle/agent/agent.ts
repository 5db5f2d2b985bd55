import { isError, type Provider, type TransactionResponse } from "ethers";

import {
  EndReason,
  LeaseStatus,
  ManagedSigner,
  MarketRevertError,
  DroppedTransactionError,
  MinedRevertError,
  confirmed,
  fetchEvents,
  leaseImage,
  nameOf,
  errorMessage,
  withDecodedRevert,
  type Deployment,
  type MarketContracts,
  type MarketEvent,
} from "../../sdk/index.js";
import { silentLogger, type Logger } from "../../sdk/log.js";
import {
  RedfishClient,
  RedfishSystem,
  endSequence,
  isTransient,
  sleep,
  startSequence,
  type PowerOptions,
  type RedfishClientOptions,
  type Step,
  type WipeOptions,
} from "../redfish/index.js";
import { type AgentStore, type LeaseEventRecord, type LeaseRow, type Sequence } from "./store.js";
import { usageRecordHash } from "../../sdk/usage-record.js";

/** A node this agent operates: how to reach its BMC, and where tenants reach the machine. */
export interface OperatedNode {
  nodeId: number;
  bmc: RedfishClientOptions & { systemId?: string };
  /** The address reported on-chain once a lease is provisioned; by default the machine's first IPv4. */
  address?: string;
}

export interface AgentOptions {
  /** Blocks to wait before acting on an event; 0 on a chain with instant finality (QBFT, a local node). */
  confirmations: number;
  pollIntervalMs: number;
  /** Most blocks fetched in one `eth_getLogs`. */
  blockRange: number;
  /** First block to follow when the store is new; the deployment's block by default. */
  startBlock?: number;
  meterIntervalMs: number;
  /** Tries of one step before it counts as failed, for errors that may pass. */
  stepAttempts: number;
  stepBackoffMs: number;
  /** After an end step keeps failing: when to try the lease again. Cleaning is never given up on. */
  retryLaterMs: number;
  power: PowerOptions;
  wipe?: WipeOptions;
}

export const DEFAULT_AGENT_OPTIONS: AgentOptions = {
  confirmations: 0,
  pollIntervalMs: 50,
  blockRange: 2_000,
  meterIntervalMs: 60_000,
  stepAttempts: 3,
  stepBackoffMs: 1_000,
  retryLaterMs: 30_000,
  power: { timeoutMs: 300_000, pollMs: 1_000 },
};

export interface AgentDependencies {
  provider: Provider;
  deployment: Deployment;
  /** The market's contracts, bound to the agent's signer (the account nodes name as their agent). */
  contracts: MarketContracts;
  store: AgentStore;
  nodes: OperatedNode[];
  logger?: Logger;
  options?: Partial<AgentOptions>;
}

/** A lease step that failed in a way no retry will mend. */
class FinalStepError extends Error {}

/**
 * The provider's agent. It follows the market's lease events for the nodes it operates, runs one
 * persisted state machine per lease (provision at the start, clean at the end), meters usage while
 * the lease runs, and reports each outcome on-chain.
 */
export class ProviderAgent {
  readonly options: AgentOptions;
  readonly #deps: AgentDependencies;
  readonly #log: Logger;
  readonly #nodes = new Map<number, OperatedNode>();
  readonly #systems = new Map<number, Promise<RedfishSystem>>();
  readonly #addresses = new Map<number, string>();
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #lastSample = new Map<number, number>();
  readonly #plans = new Map<number, { sequence: Sequence; steps: Step[] }>();
  #address = "";
  #clock = { block: -1, timestamp: 0, observedAt: 0 };
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: AgentDependencies) {
    this.#deps = deps;
    this.#log = deps.logger ?? silentLogger;
    this.options = { ...DEFAULT_AGENT_OPTIONS, ...deps.options };
  }

  /** Checks which configured nodes name this agent on-chain, then starts following the chain. */
  async start(): Promise<void> {
    const { contracts, deployment, store } = this.#deps;
    const runner = contracts.leases.runner;
    // A ManagedSigner pads gas estimates (a report sent with a bare estimate can run out of gas
    // once mined a block later) and hands out nonces in turn, however many leases report at once.
    if (!(runner instanceof ManagedSigner)) {
      throw new Error("the agent's contracts need a signer, bound through a ManagedSigner");
    }
    this.#address = await runner.getAddress();
    // The deployment block's hash tells a reset local chain from the one the data came from: a
    // redeployment there reuses the same addresses.
    const deployedIn = await this.#deps.provider.getBlock(deployment.blockNumber);
    if (deployedIn === null || deployedIn.hash === null) {
      throw new Error(
        `the chain has no block ${deployment.blockNumber}, where the deployment file says the market was deployed: ` +
          "the RPC URL points at another chain, or the deployment file is stale",
      );
    }
    store.bindTo(`${deployment.chainId}:${deployment.contracts.leases.toLowerCase()}:${deployedIn.hash}`);
    for (const node of this.#deps.nodes) {
      const agent = await contracts.nodes.agentOf(node.nodeId);
      if (agent.toLowerCase() !== this.#address.toLowerCase()) {
        this.#log.warn("node names another agent on-chain; skipping it", { nodeId: node.nodeId, agent });
        continue;
      }
      this.#nodes.set(node.nodeId, node);
    }
    this.#log.info("agent started", {
      agent: this.#address,
      nodes: [...this.#nodes.keys()],
      checkpoint: store.checkpoint(),
    });
    this.#running = true;
    this.#loop = this.#follow();
    for (const node of this.#nodes.values()) if (node.address === undefined) void this.#checkAddress(node.nodeId);
  }

  /** Finishes the steps under way, then stops; nothing is left half-recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled(this.#inFlight.values());
    await Promise.allSettled([...this.#systems.values()].map(async (system) => (await system).client.close()));
    this.#systems.clear();
    this.#log.info("agent stopped");
  }

  /** The nodes this agent operates, as verified on-chain. */
  get nodeIds(): number[] {
    return [...this.#nodes.keys()];
  }

  // ------------------------------------------------------------------ following the chain

  async #follow(): Promise<void> {
    while (this.#running) {
      try {
        await this.#catchUp();
        this.#schedule();
      } catch (error) {
        this.#log.warn("could not follow the chain; trying again", { error: errorMessage(error) });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollIntervalMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #catchUp(): Promise<void> {
    const { provider, deployment, store } = this.#deps;
    const head = await provider.getBlockNumber();
    // The head's time is read beside the logs, not before them: a new lease's first BMC request
    // waits for nothing it does not need.
    const clock =
      head === this.#clock.block
        ? undefined
        : provider.getBlock(head).then((block) => {
            if (block !== null) this.#clock = { block: head, timestamp: block.timestamp, observedAt: Date.now() };
          });
    const safe = head - this.options.confirmations;
    let from = (store.checkpoint() ?? (this.options.startBlock ?? deployment.blockNumber) - 1) + 1;
    while (from <= safe) {
      const to = Math.min(safe, from + this.options.blockRange - 1);
      const events = await fetchEvents(provider, deployment, from, to, {
        contract: "leases",
        events: ["LeaseCreated", "LeasePreempted", "LeaseEnded"],
      });
      const mine = new Set<number>();
      const records: { record: LeaseEventRecord; event: MarketEvent }[] = [];
      for (const event of events) {
        if (event.name === "LeaseCreated" && this.#nodes.has(Number(event.args.nodeId)))
          mine.add(Number(event.args.leaseId));
        const leaseId = "leaseId" in event.args ? Number(event.args.leaseId) : 0;
        if (
          (event.name === "LeaseCreated" || event.name === "LeasePreempted" || event.name === "LeaseEnded") &&
          (mine.has(leaseId) || store.lease(leaseId) !== undefined)
        ) {
          records.push({
            event,
            record: {
              transactionHash: event.transactionHash,
              logIndex: event.logIndex,
              blockNumber: event.blockNumber,
              name: event.name,
              leaseId,
            },
          });
        }
      }
      const byKey = new Map(
        records.map(({ record, event }) => [`${record.transactionHash}:${record.logIndex}`, event]),
      );
      store.advance(
        to,
        records.map(({ record }) => record),
        (record) => this.#apply(byKey.get(`${record.transactionHash}:${record.logIndex}`)),
      );
      from = to + 1;
    }
    await clock;
  }

  #apply(typed: MarketEvent | undefined): void {
    const { store } = this.#deps;
    if (typed?.name === "LeaseCreated") {
      const { leaseId, nodeId, start, end } = typed.args;
      store.addLease({ leaseId: Number(leaseId), nodeId: Number(nodeId), start: Number(start), end: Number(end) });
      // Log in to the node's BMC now, while the lease's image is read from the chain.
      this.#system(Number(nodeId)).catch(() => undefined);
      this.#log.info("lease made", {
        leaseId: Number(leaseId),
        nodeId: Number(nodeId),
        start: Number(start),
        end: Number(end),
      });
    } else if (typed?.name === "LeasePreempted") {
      // The owner takes the node back after the notice: the lease's end comes forward to then.
      store.endBy(Number(typed.args.leaseId), Number(typed.args.endsAt));
      this.#log.info("lease preempted", { leaseId: Number(typed.args.leaseId), endsAt: Number(typed.args.endsAt) });
    } else if (typed?.name === "LeaseEnded") {
      const reason = endReasonName(Number(typed.args.reason));
      store.setEndCause(Number(typed.args.leaseId), reason);
      this.#log.info("lease ended on-chain", { leaseId: Number(typed.args.leaseId), reason });
    }
  }

  /** The chain's time now, in seconds: the head's timestamp moved on by the time since we saw it. */
  #chainNow(): number {
    const { timestamp, observedAt } = this.#clock;
    return timestamp + Math.floor((Date.now() - observedAt) / 1000);
  }

  // ------------------------------------------------------------------ driving leases

  #schedule(): void {
    const now = this.#chainNow();
    const open = this.#deps.store.openLeases();
    const busy = new Set(open.filter((l) => l.phase === "starting" || l.phase === "ending").map((l) => l.nodeId));
    for (const lease of open) {
      if (this.#inFlight.has(lease.leaseId) || lease.notBefore > Date.now()) continue;
      const due =
        lease.phase === "starting" ||
        lease.phase === "ending" ||
        (lease.phase === "running" &&
          (lease.endCause !== null ||
            now >= lease.end ||
            Date.now() - (this.#lastSample.get(lease.leaseId) ?? 0) >= this.options.meterIntervalMs)) ||
        (lease.phase === "scheduled" &&
          (lease.endCause !== null || now >= lease.end || (now >= lease.start && !busy.has(lease.nodeId))));
      if (!due) continue;
      if (lease.phase === "scheduled") busy.add(lease.nodeId);
      const run = this.#drive(lease.leaseId)
        .catch((error: unknown) =>
          this.#log.error("lease driver failed", { leaseId: lease.leaseId, error: errorMessage(error) }),
        )
        .finally(() => this.#inFlight.delete(lease.leaseId));
      this.#inFlight.set(lease.leaseId, run);
    }
  }

  /** Moves one lease as far as it can go now, one persisted step at a time. */
  async #drive(leaseId: number): Promise<void> {
    const { store } = this.#deps;
    while (this.#running) {
      const lease = store.lease(leaseId);
      if (lease === undefined) return;
      const now = this.#chainNow();
      switch (lease.phase) {
        case "scheduled":
          if (lease.endCause === null && now >= lease.end) store.setEndCause(leaseId, endReasonName(EndReason.Expired));
          if (lease.endCause !== null || now >= lease.end) store.enterPhase(leaseId, "ending");
          else if (now < lease.start) return;
          else if (await this.#refusedOnUnwipedNode(lease)) return;
          else store.enterPhase(leaseId, "starting");
          break;
        case "starting":
          if (lease.endCause !== null) {
            // Ended before the agent saw its own report through (a crash between the two): the node
            // did run for the buyer, so its record gets a sample before the power goes off.
            if ((await this.#deps.contracts.leases.leaseOf(leaseId)).provisionedAt !== 0n) await this.#sample(lease);
            store.enterPhase(leaseId, "ending");
            break;
          }
          if (!(await this.#advance(lease, "start"))) return;
          break;
        case "running":
          if (lease.endCause === null && now < lease.end) {
            await this.#sample(lease);
            return;
          }
          if (lease.endCause === null) store.setEndCause(leaseId, endReasonName(EndReason.Expired));
          await this.#sample(lease);
          store.enterPhase(leaseId, "ending");
          break;
        case "ending":
          if (!(await this.#advance(lease, "end"))) return;
          break;
        default:
          return;
      }
    }
  }

  /** Runs the lease's next step; answers whether the driver should go on. */
  async #advance(lease: LeaseRow, sequence: Sequence): Promise<boolean> {
    const { store } = this.#deps;
    const { leaseId } = lease;
    let name = "prepare";
    for (let attempt = 1; ; attempt += 1) {
      try {
        const steps = await this.#plan(lease, sequence);
        const step = steps[lease.step];
        if (step === undefined) {
          this.#finishSequence(lease, sequence);
          return true;
        }
        name = step.name;
        const status = await step.run(store.beginStep(leaseId));
        store.finishStep(leaseId, sequence, step.name, status);
        this.#log.debug("step finished", { leaseId, sequence, step: step.name, status });
        return true;
      } catch (error) {
        if (!transient(error) || attempt >= this.options.stepAttempts || !this.#running) {
          return this.#stepFailed(lease, sequence, name, error);
        }
        this.#log.warn("step failed; trying again", { leaseId, step: name, attempt, error: errorMessage(error) });
        await sleep(this.options.stepBackoffMs * attempt);
      }
    }
  }

  /** The lease's steps for `sequence`, planned once (one image lookup, one virtual CD discovery). */
  async #plan(lease: LeaseRow, sequence: Sequence): Promise<Step[]> {
    const planned = this.#plans.get(lease.leaseId);
    if (planned?.sequence === sequence) return planned.steps;
    const steps = sequence === "start" ? await this.#startSteps(lease) : this.#endSteps(lease);
    this.#plans.set(lease.leaseId, { sequence, steps });
    return steps;
  }

  #finishSequence(lease: LeaseRow, sequence: Sequence): void {
    const { store } = this.#deps;
    this.#plans.delete(lease.leaseId);
    if (sequence === "start") {
      store.enterPhase(lease.leaseId, "running", { provisioned: true, error: null });
      this.#log.info("lease provisioned", { leaseId: lease.leaseId, nodeId: lease.nodeId });
    } else {
      store.enterPhase(lease.leaseId, "done", { error: null });
      this.#lastSample.delete(lease.leaseId);
      this.#log.info("lease closed and node cleaned", {
        leaseId: lease.leaseId,
        nodeId: lease.nodeId,
        cause: lease.endCause,
      });
    }
  }

  #stepFailed(lease: LeaseRow, sequence: Sequence, step: string, error: unknown): boolean {
    const { store } = this.#deps;
    const reason = `${step}: ${errorMessage(error)}`;
    if (!this.#running) return false;
    if (sequence === "start") {
      // The lease cannot be delivered: report it failed (the buyer is refunded) and clean up.
      this.#log.error("provisioning failed; reporting the lease failed", {
        leaseId: lease.leaseId,
        step,
        error: errorMessage(error),
      });
      store.setEndCause(lease.leaseId, `Failed: ${reason}`);
      store.enterPhase(lease.leaseId, "ending", { error: reason });
      return true;
    }
    if (transient(error)) {
      this.#log.warn("cleanup step keeps failing; will try again later", {
        leaseId: lease.leaseId,
        step,
        error: errorMessage(error),
      });
      store.postpone(lease.leaseId, Date.now() + this.options.retryLaterMs, reason);
    } else {
      this.#log.error("cleanup step failed for good; the node is held for its operator", {
        leaseId: lease.leaseId,
        nodeId: lease.nodeId,
        step,
        error: errorMessage(error),
      });
      store.enterPhase(lease.leaseId, "stuck", { error: reason });
      this.#plans.delete(lease.leaseId);
      void this.#holdForOperator(lease.nodeId, `lease ${lease.leaseId} not wiped: ${reason}`);
    }
    return false;
  }

  /** The start sequence: the BMC steps, then the report. The BMC is reached only when a step needs it. */
  async #startSteps(lease: LeaseRow): Promise<Step[]> {
    const { contracts, deployment } = this.#deps;
    const system = () => this.#system(lease.nodeId);
    const image = await leaseImage(contracts, lease.leaseId, deployment.blockNumber);
    if (image === "") throw new FinalStepError("the lease names no image to boot");
    return [
      ...startSequence(system, image, { power: this.options.power }),
      {
        name: "report-provisioned",
        run: async () => {
          if ((await this.#leaseStatus(lease.leaseId)) !== LeaseStatus.Pending) return undefined;
          const address = await this.#nodeAddress(lease.nodeId, await system());
          return this.#send(() => contracts.leases.reportProvisioned(lease.leaseId, address));
        },
      },
    ];
  }

  /** The end sequence: close the lease on-chain first (a failure refunds the buyer at once), then clean. */
  #endSteps(lease: LeaseRow): Step[] {
    const { contracts, store } = this.#deps;
    const system = () => this.#system(lease.nodeId);
    const { leaseId } = lease;
    return [
      {
        name: "close-lease",
        run: async () => {
          if (!(await this.#isLive(leaseId))) return undefined;
          const failure =
            lease.endCause?.startsWith("Failed: ") === true ? lease.endCause.slice("Failed: ".length) : undefined;
          try {
            return await (failure === undefined
              ? this.#send(() => contracts.leases.settle(leaseId))
              : this.#send(() => contracts.leases.reportFailed(leaseId, failure.slice(0, 200))));
          } catch (error) {
            // Settling is anyone's to do (a keeper, the buyer): one that came first leaves nothing to close.
            if (error instanceof MarketRevertError && !(await this.#isLive(leaseId))) return undefined;
            throw error;
          }
        },
      },
      ...endSequence(system, this.options.wipe, { power: this.options.power }),
      {
        name: "report-usage",
        run: async () => {
          const samples = store.samples(leaseId);
          const last = samples.at(-1);
          // Samples exist only for a lease the node ran: one provisioned on-chain.
          if (last === undefined) return undefined;
          const hash = usageRecordHash(leaseId, samples);
          const [, usageRecord] = await contracts.leases.detailsOf(leaseId);
          if (usageRecord === hash) return undefined;
          return this.#send(() => contracts.leases.reportUsage(leaseId, hash, Math.floor(last.at / 1000)));
        },
      },
      {
        name: "report-cleaned",
        run: async () => {
          const status = await this.#leaseStatus(leaseId);
          if (status === LeaseStatus.Cleaned) return undefined;
          return this.#send(() => contracts.leases.reportCleaned(leaseId));
        },
      },
    ];
  }

  async #sample(lease: LeaseRow): Promise<void> {
    try {
      const system = await this.#system(lease.nodeId);
      const powerState = await system.powerState();
      const watts = await system.powerDraw().catch(() => undefined);
      const at = Date.now();
      this.#deps.store.addSample(lease.leaseId, { at, powerState, watts: watts ?? null });
      this.#lastSample.set(lease.leaseId, at);
    } catch (error) {
      // A missed sample is a gap in the record, not a reason to stop the lease.
      this.#lastSample.set(lease.leaseId, Date.now());
      this.#log.warn("could not meter the node", { leaseId: lease.leaseId, error: errorMessage(error) });
    }
  }

  async #leaseStatus(leaseId: number): Promise<number> {
    return Number((await this.#deps.contracts.leases.leaseOf(leaseId)).status);
  }

  /** True while the lease is Pending or Active: not yet ended on-chain. */
  async #isLive(leaseId: number): Promise<boolean> {
    const status = await this.#leaseStatus(leaseId);
    return status === LeaseStatus.Pending || status === LeaseStatus.Active;
  }

  /**
   * True when the lease's node still holds an earlier lease's machine that was never reported
   * wiped (the chain says which): the lease is then refused, not provisioned onto another
   * tenant's leftovers. It is reported failed (the buyer gets everything back) and the node is held
   * for its operator. An earlier lease this agent is still cleaning only makes the lease wait.
   */
  async #refusedOnUnwipedNode(lease: LeaseRow): Promise<boolean> {
    const { contracts, store } = this.#deps;
    const previous = Number(await contracts.leases.unwipedLeaseOf(lease.nodeId));
    if (previous === 0 || previous === lease.leaseId) return false;
    const phase = store.lease(previous)?.phase;
    if (phase === "ending" || phase === "running" || phase === "starting") return true;
    const reason = `node ${lease.nodeId} was not wiped after lease ${previous}`;
    this.#log.error("refusing a lease on a node not wiped; holding the node for its operator", {
      leaseId: lease.leaseId,
      nodeId: lease.nodeId,
      previous,
    });
    await this.#holdForOperator(lease.nodeId, `${reason}: lease ${lease.leaseId} refused`);
    if ((await this.#leaseStatus(lease.leaseId)) === LeaseStatus.Pending) {
      await this.#send(() => contracts.leases.reportFailed(lease.leaseId, reason));
    }
    store.setEndCause(lease.leaseId, `Failed: ${reason}`);
    store.enterPhase(lease.leaseId, "done", { error: reason });
    return true;
  }

  /** Takes a node out of the market on-chain (maintenance) and tells its operator why. */
  async #holdForOperator(nodeId: number, reason: string): Promise<void> {
    try {
      await this.#send(() => this.#deps.contracts.nodes.holdForOperator(nodeId, reason.slice(0, 200)));
    } catch (error) {
      // The log line above already tells the operator; the chain's record is tried again at the next refusal.
      this.#log.error("could not hold the node on-chain", { nodeId, error: errorMessage(error) });
    }
  }

  /**
   * Sends a report and waits for it to be mined; answers 1, a mined transaction's status. A mined
   * revert caused by gas or timing is a `MinedRevertError`: transient, so the step looks at the
   * lease again and sends anew.
   */
  async #send(action: () => Promise<TransactionResponse>): Promise<number> {
    const receipt = await confirmed(await withDecodedRevert(action));
    return receipt.status ?? 0;
  }

  #system(nodeId: number): Promise<RedfishSystem> {
    const node = this.#nodes.get(nodeId);
    if (node === undefined) return Promise.reject(new FinalStepError(`node ${nodeId} is not operated by this agent`));
    let system = this.#systems.get(nodeId);
    if (system === undefined) {
      const client = new RedfishClient(node.bmc);
      system = RedfishSystem.open(client, node.bmc.systemId);
      system.catch(() => {
        this.#systems.delete(nodeId);
        void client.close();
      });
      this.#systems.set(nodeId, system);
    }
    return system;
  }

  async #nodeAddress(nodeId: number, system: RedfishSystem): Promise<string> {
    const configured = this.#nodes.get(nodeId)?.address ?? this.#addresses.get(nodeId);
    if (configured !== undefined) return configured;
    const check = await system.address();
    if (!check.ok) throw new FinalStepError(`${check.reason}; configure the node's address`);
    this.#addresses.set(nodeId, check.address);
    return check.address;
  }

  /**
   * Says at start-up, not after a lease's power-on, when a node without a configured address has a
   * BMC that reports no IPv4: each of its leases would fail at provisioning.
   */
  async #checkAddress(nodeId: number): Promise<void> {
    try {
      const check = await (await this.#system(nodeId)).address();
      if (!check.ok) {
        this.#log.error("node has no configured address and its BMC reports no IPv4: its leases will fail", {
          nodeId,
          reason: check.reason,
          fix: `set "address" for node ${nodeId} in the agent's configuration`,
        });
      }
    } catch (error) {
      this.#log.warn("could not check the node's address at start-up", { nodeId, error: errorMessage(error) });
    }
  }
}

function endReasonName(reason: number): string {
  return String(nameOf(EndReason, reason) ?? `EndReason(${reason})`);
}

function transient(error: unknown): boolean {
  if (error instanceof FinalStepError) return false;
  // Out of gas, or overtaken by its block: the step checks the lease again and sends anew.
  if (error instanceof MinedRevertError || error instanceof DroppedTransactionError) return true;
  if (error instanceof MarketRevertError) return error.revert.name === "NotDue";
  if (isError(error, "NETWORK_ERROR") || isError(error, "TIMEOUT") || isError(error, "SERVER_ERROR")) return true;
  if (error instanceof Error && "code" in error && ["ECONNREFUSED", "ECONNRESET"].includes(String(error.code)))
    return true;
  return isTransient(error);
}
