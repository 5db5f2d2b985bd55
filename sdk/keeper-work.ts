import { MarketRevertError } from "./errors.js";
import type { MarketEvent } from "./events.js";
import { MinedRevertError } from "./receipts.js";
import { revealWindow, type AuctionScheduleOf } from "./rounds.js";

/**
 * What a keeper finds to do: permissionless calls that free credits some process forgot. Pure: the
 * work is found from events and the chain's time alone, so it is tested without a chain.
 */

/** One call the keeper sends. */
export type KeeperTask =
  /** `forfeitUnrevealed`: a commit whose reveal window closed; 90% back to the bidder by default. */
  | { kind: "forfeit"; roundId: number; bidder: string; commitment: string }
  /**
   * `settle`: an Active lease past its end (the seller is paid) or past the start of a replacement
   * provisioned ahead (released), or a Pending one past its grace (refund).
   */
  | { kind: "settle"; leaseId: number }
  /** `clearRound`, in chunks: a round with revealed bids whose reveal window closed. */
  | { kind: "clear"; roundId: number; bids: number };

/** The events a keeper follows, by the contract emitting them (`fetchEvents` filters). */
export const KEEPER_EVENTS = {
  market: ["BidCommitted", "BidRevealed", "BidForfeited", "RoundCleared"],
  leases: ["LeaseCreated", "LeaseProvisioned", "LeasePreempted", "LeaseEnded"],
} as const;

/** What due dates follow from: the deployment's round schedule and provisioning grace. */
export interface WorkRules {
  schedule: AuctionScheduleOf;
  provisionGraceSeconds: number;
}

/**
 * A bidder's commits in one round. A reveal does not name its commitment (only the salt links the
 * two), so reveals are counted: while fewer reveals than open commits were seen, some commit is
 * unrevealed. `revealed` never exceeds the revealed commits still in `open` (see `drop`), so a
 * group is only forgotten once none of its commits can be unrevealed.
 */
interface CommitGroup {
  roundId: number;
  bidder: string;
  open: Set<string>;
  revealed: number;
}

interface OpenLease {
  start: number;
  end: number;
  /** When the lease was made, where the event says: a lease booked after its start has its grace from then. */
  createdAt?: number;
  provisioned: boolean;
  /** The lease this one replaces (0: none). */
  replaces: number;
  /** A replacement of this lease, provisioned ahead of its start, that takes over at that start. */
  replacedBy?: { leaseId: number; start: number };
  /** When the owner's preemption of this lease takes effect. */
  preemptedUntil?: number;
}

/** The keeper's open work: commits not yet known revealed, live leases, rounds not yet cleared. */
export class OpenWork {
  readonly #rules: WorkRules;
  readonly #groups = new Map<string, CommitGroup>();
  readonly #leases = new Map<number, OpenLease>();
  /** Rounds with revealed bids, not seen cleared: how many bids each revealed. */
  readonly #rounds = new Map<number, number>();

  constructor(rules: WorkRules) {
    this.#rules = rules;
  }

  /** Takes one followed event into account; others are ignored. Events come in chain order. */
  apply(event: MarketEvent): void {
    switch (event.name) {
      case "BidCommitted": {
        const group = this.#group(Number(event.args.roundId), event.args.bidder);
        group.open.add(event.args.commitment);
        break;
      }
      case "BidRevealed": {
        const roundId = Number(event.args.roundId);
        const group = this.#group(roundId, event.args.bidder);
        group.revealed += 1;
        this.#settleGroup(group);
        this.#rounds.set(roundId, (this.#rounds.get(roundId) ?? 0) + 1);
        break;
      }
      case "BidForfeited": {
        const group = this.#groups.get(groupKey(Number(event.args.roundId), event.args.bidder));
        if (group === undefined) break;
        group.open.delete(event.args.commitment);
        this.#settleGroup(group);
        break;
      }
      case "RoundCleared":
        this.#rounds.delete(Number(event.args.roundId));
        break;
      case "LeaseCreated":
        this.#leases.set(Number(event.args.leaseId), {
          start: Number(event.args.start),
          end: Number(event.args.end),
          ...(event.blockTimestamp === undefined ? {} : { createdAt: event.blockTimestamp }),
          provisioned: false,
          replaces: Number(event.args.replacesLease),
        });
        break;
      case "LeaseProvisioned": {
        const leaseId = Number(event.args.leaseId);
        const lease = this.#leases.get(leaseId);
        if (lease === undefined) break;
        lease.provisioned = true;
        // Reported ahead of its start, it takes over from the lease it replaces then (`Leases.settle`).
        const replaced = this.#leases.get(lease.replaces);
        if (replaced?.provisioned === true) replaced.replacedBy = { leaseId, start: lease.start };
        break;
      }
      case "LeasePreempted": {
        // Settled as preempted once the owner's notice has run.
        const lease = this.#leases.get(Number(event.args.leaseId));
        if (lease !== undefined) lease.preemptedUntil = Number(event.args.endsAt);
        break;
      }
      case "LeaseEnded": {
        const leaseId = Number(event.args.leaseId);
        const lease = this.#leases.get(leaseId);
        this.#leases.delete(leaseId);
        // A replacement that ended before its start takes over from nothing.
        const replaced = lease === undefined ? undefined : this.#leases.get(lease.replaces);
        if (replaced?.replacedBy?.leaseId === leaseId) delete replaced.replacedBy;
        break;
      }
      default:
        break;
    }
  }

  /** Every task due at chain time `now` (unix seconds). */
  due(now: number): KeeperTask[] {
    const tasks: KeeperTask[] = [];
    for (const group of this.#groups.values()) {
      if (now < this.#revealClosesAt(group.roundId)) continue;
      for (const commitment of group.open) {
        tasks.push({ kind: "forfeit", roundId: group.roundId, bidder: group.bidder, commitment });
      }
    }
    for (const [leaseId, lease] of this.#leases) {
      if (now >= this.#settlesAt(lease)) tasks.push({ kind: "settle", leaseId });
    }
    for (const [roundId, bids] of this.#rounds) {
      if (now >= this.#revealClosesAt(roundId)) tasks.push({ kind: "clear", roundId, bids });
    }
    return tasks;
  }

  /**
   * Forgets a task that is done, by this keeper or by someone else. A forfeit refused because its
   * commitment is gone was revealed (or forfeited by another): one reveal fewer to account for.
   */
  drop(task: KeeperTask, outcome: "done" | "superseded"): void {
    if (task.kind === "settle") this.#leases.delete(task.leaseId);
    else if (task.kind === "clear") this.#rounds.delete(task.roundId);
    else {
      const group = this.#groups.get(groupKey(task.roundId, task.bidder));
      if (group === undefined || !group.open.delete(task.commitment)) return;
      if (outcome === "superseded") group.revealed = Math.max(0, group.revealed - 1);
      this.#settleGroup(group);
    }
  }

  /** How much is open, for a status line. */
  size(): { commits: number; leases: number; rounds: number } {
    let commits = 0;
    for (const group of this.#groups.values()) commits += Math.max(0, group.open.size - group.revealed);
    return { commits, leases: this.#leases.size, rounds: this.#rounds.size };
  }

  #group(roundId: number, bidder: string): CommitGroup {
    const key = groupKey(roundId, bidder);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { roundId, bidder, open: new Set(), revealed: 0 };
      this.#groups.set(key, group);
    }
    return group;
  }

  /** A group none of whose commits can be unrevealed is forgotten: commits come before reveals. */
  #settleGroup(group: CommitGroup): void {
    if (group.open.size <= group.revealed) this.#groups.delete(groupKey(group.roundId, group.bidder));
  }

  #revealClosesAt(roundId: number): number {
    return revealWindow(this.#rules.schedule, roundId).closesAt;
  }

  /**
   * As `Leases.settle`: an Active lease at its end, or at the start of its replacement if sooner; a
   * Pending one at its grace's end (`Leases.provisionDeadline`), or its own end if sooner; either once
   * a preemption's notice ran.
   */
  #settlesAt(lease: OpenLease): number {
    const preempted = lease.preemptedUntil ?? lease.end;
    if (lease.provisioned) return Math.min(lease.end, lease.replacedBy?.start ?? lease.end, preempted);
    const graceFrom = Math.max(lease.start, lease.createdAt ?? lease.start);
    return Math.min(graceFrom + this.#rules.provisionGraceSeconds, lease.end, preempted);
  }
}

function groupKey(roundId: number, bidder: string): string {
  return `${roundId}:${bidder.toLowerCase()}`;
}

/** A name for a task, unique among open tasks: for logs and holding a refused task back. */
export function taskKey(task: KeeperTask): string {
  if (task.kind === "forfeit") return `forfeit:${task.bidder.toLowerCase()}:${task.commitment}`;
  return task.kind === "settle" ? `settle:${task.leaseId}` : `clear:${task.roundId}`;
}

/**
 * What a failed task's error means: `superseded`, someone else did it first (drop it); `notYet`,
 * the chain says it is not due (keep it); `retry`, worth sending again next pass (out of gas, a
 * revert that depended on its block, the chain not answering); `refused`, a refusal nobody
 * expects (kept, but tried less often).
 */
export type TaskFailure = "superseded" | "notYet" | "retry" | "refused";

/** The contracts' errors that say a task was done already, by task kind. */
const DONE_ALREADY: Record<KeeperTask["kind"], readonly string[]> = {
  forfeit: ["UnknownCommitment"],
  settle: ["InvalidLeaseStatus", "UnknownLease"],
  clear: ["RoundAlreadyCleared"],
};
const NOT_DUE = ["NotDue", "RevealWindowOpen"];

export function classifyFailure(task: KeeperTask, error: unknown): TaskFailure {
  if (error instanceof MinedRevertError) return "retry";
  if (!(error instanceof MarketRevertError)) return "retry";
  if (DONE_ALREADY[task.kind].includes(error.revert.name)) return "superseded";
  return NOT_DUE.includes(error.revert.name) ? "notYet" : "refused";
}
