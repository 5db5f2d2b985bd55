import type { Logger } from "../sdk/log.js";
import { AdvisoryLock, type LockLostError } from "./db/advisory-lock.js";
import type { Db } from "./db/database.js";
import { repeat, type Repeating } from "./repeat.js";

/** How often a replica asks for the lock, and the leader checks it still holds it. */
const CLAIM_INTERVAL_MS = 1000;
/**
 * Claims a replica that just lost the lock sits out: the others, whose connections did not fail,
 * take over rather than the one that just failed.
 */
const CLAIMS_SKIPPED_AFTER_LOSS = 2;
/** The advisory lock key replicas of one gateway database contend for ("mmld"). */
const LEADER_LOCK = 0x6d6d6c64;

export type Role = "leader" | "follower";

/**
 * Background work that runs in one role: started when the replica takes that role on, stopped
 * when it leaves it. `stop` resolves once the work under way has finished, so the next holder of
 * the role never overlaps with it on this replica.
 */
export interface RoleJob {
  /** Named in logs. */
  name: string;
  start(): void;
  stop(): Promise<void>;
}

/** How a replica claims leadership: a database lock, or nothing to contend for. */
export interface LeaderLock {
  /** Claims leadership, or checks it still holds; true while this replica leads. */
  claim(): Promise<boolean>;
  /** `listener` hears at once when leadership is lost between claims (its connection dropped). */
  onLost(listener: (error: LockLostError) => void): void;
  release(): Promise<void>;
}

/** One process on a SQLite file: nobody else to lead. */
const SOLE_LOCK: LeaderLock = {
  claim: async () => true,
  onLost: () => undefined,
  release: async () => undefined,
};

/**
 * Which replica of a gateway does the background work that must happen once (indexing, sealed-bid
 * reveals and clearing, webhook deliveries, any keeper): the holder of a PostgreSQL advisory lock,
 * asked for every second. Work registers for a role with `leaderOnly` or `followerOnly` (what a
 * follower does instead: follow the read model the leader writes); a change of role stops the old
 * role's work, awaiting what is under way, before the new role's starts.
 *
 * A leader cut off from the database stops at once, but lets the pass under way finish, and a new
 * leader may start meanwhile. The jobs bear such an overlap: the indexers' inserts of one event
 * collide on its id and one transaction rolls back; a reveal or clearing sent twice is refused by
 * the contract, and the sealed-bid loop reconciles from the chain; webhooks are at least once.
 */
export class Leadership {
  readonly #lock: LeaderLock;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #jobs: Record<Role, RoleJob[]> = { leader: [], follower: [] };
  /** The role this replica has taken on; its work may still be starting. */
  #role: Role | undefined;
  /** The role whose work runs now, and that work. */
  #active: Role | undefined;
  #running: RoleJob[] = [];
  /** Changes of role, one after another. */
  #changes: Promise<void> = Promise.resolve();
  #loop: Repeating | undefined;
  #stopped = false;
  /** No claim before this (`performance.now()`): this replica lost the lock lately. */
  #claimAfter = 0;
  /** Settles at the first claim's answer. */
  readonly #decided: Promise<void>;
  #decide: () => void = () => undefined;

  constructor(lock: LeaderLock, logger: Logger, intervalMs = CLAIM_INTERVAL_MS) {
    this.#lock = lock;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#decided = new Promise((resolve) => (this.#decide = resolve));
    lock.onLost((error) => {
      this.#logger.warn("leadership lost: stopping the leader's work", { error });
      this.#claimAfter = performance.now() + CLAIMS_SKIPPED_AFTER_LOSS * this.#intervalMs;
      this.#take("follower");
    });
  }

  /**
   * A gateway's leadership: contended for through an advisory lock on PostgreSQL (on a connection
   * of its own, to `url`); on SQLite, which one process uses, that process always leads.
   */
  static of(db: Db, url: string, logger: Logger): Leadership {
    return new Leadership(db.dialect === "postgres" ? new AdvisoryLock(url, LEADER_LOCK) : SOLE_LOCK, logger);
  }

  /** Work that runs on the leader alone. */
  leaderOnly(job: RoleJob): void {
    this.#register("leader", job);
  }

  /** Work a follower does in place of the leader's (following what the leader writes). */
  followerOnly(job: RoleJob): void {
    this.#register("follower", job);
  }

  isLeader(): boolean {
    return this.#role === "leader";
  }

  /** Starts contending; resolves once this replica knows its role and that role's work has started. */
  async start(): Promise<void> {
    this.#loop = repeat(
      () => this.#claim(),
      this.#intervalMs,
      () => undefined,
    );
    await this.#decided;
    await this.#changes;
  }

  /** Stops every job (awaiting the work under way), then lets go of leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop?.stop();
    this.#role = undefined;
    await this.#change(undefined);
    await this.#lock.release();
  }

  async #claim(): Promise<void> {
    if (performance.now() < this.#claimAfter) return;
    let leads = false;
    try {
      leads = await this.#lock.claim();
    } catch (error) {
      this.#logger.warn("leadership: the database did not answer; following until it does", { error });
    }
    this.#take(leads ? "leader" : "follower");
    this.#decide();
  }

  #take(role: Role): void {
    if (this.#stopped || this.#role === role) return;
    const first = this.#role === undefined;
    this.#role = role;
    if (role === "leader") this.#logger.info("leadership: this replica leads and does the background work");
    else if (first) this.#logger.info("leadership: another replica leads; this one follows it");
    void this.#change(role);
  }

  #change(role: Role | undefined): Promise<void> {
    this.#changes = this.#changes.then(() => this.#switchTo(role));
    return this.#changes;
  }

  async #switchTo(role: Role | undefined): Promise<void> {
    // Last started, first stopped: work that needs the indexer ends before the indexer does.
    for (const job of [...this.#running].reverse()) {
      try {
        await job.stop();
      } catch (error) {
        this.#logger.error(`${job.name} did not stop cleanly`, { error });
      }
    }
    this.#running = [];
    this.#active = role;
    if (role !== undefined) for (const job of this.#jobs[role]) this.#run(job);
  }

  #register(role: Role, job: RoleJob): void {
    this.#jobs[role].push(job);
    // Registered after the start (a job added later): it joins at once if its role is running.
    this.#changes = this.#changes.then(() => {
      if (this.#active === role && !this.#running.includes(job)) this.#run(job);
    });
  }

  #run(job: RoleJob): void {
    try {
      job.start();
      this.#running.push(job);
    } catch (error) {
      this.#logger.error(`${job.name} did not start`, { error });
    }
  }
}
