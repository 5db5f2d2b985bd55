import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";

import { migrate, type Migration, type MigrationTarget } from "../../sdk/migrations.js";
import type { UsageSample } from "../../sdk/usage-record.js";

/** Where a lease is in the agent's hands. */
export type LeasePhase = "scheduled" | "starting" | "running" | "ending" | "done" | "stuck";
export type Sequence = "start" | "end";

export interface LeaseRow {
  leaseId: number;
  nodeId: number;
  start: number;
  end: number;
  phase: LeasePhase;
  /** Index of the next step of the phase's sequence. */
  step: number;
  /** When the current step first began (epoch ms), kept so that a restart resumes its clock. */
  stepStartedAt: number | null;
  /** Why the lease ends: an `EndReason` name from the chain, or `Failed: ...` from the agent. */
  endCause: string | null;
  provisioned: boolean;
  error: string | null;
  /** Do not try again before this moment (epoch ms). */
  notBefore: number;
}

/** A lease event the follower applies; stored so that none is applied twice. */
export interface LeaseEventRecord {
  transactionHash: string;
  logIndex: number;
  blockNumber: number;
  name: "LeaseCreated" | "LeasePreempted" | "LeaseEnded";
  leaseId: number;
}

export type { UsageSample };

type Row = Record<string, string | number | bigint | null | Uint8Array>;

/** The store's schema history: a change is a new step, never an edit of a released one. */
export const AGENT_STORE_MIGRATIONS: readonly Migration<MigrationTarget>[] = [
  {
    // The schema as the first releases created it (IF NOT EXISTS: their stores adopt it as is).
    name: "0001-baseline",
    up: (db) =>
      db.exec(`
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS handled_events (
    tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL, block_number INTEGER NOT NULL,
    name TEXT NOT NULL, lease_id INTEGER NOT NULL,
    PRIMARY KEY (tx_hash, log_index));
  CREATE TABLE IF NOT EXISTS leases (
    lease_id INTEGER PRIMARY KEY, node_id INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    phase TEXT NOT NULL, step INTEGER NOT NULL DEFAULT 0, step_started_at INTEGER,
    end_cause TEXT, provisioned INTEGER NOT NULL DEFAULT 0, error TEXT,
    not_before INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS leases_open ON leases (phase) WHERE phase NOT IN ('done', 'stuck');
  CREATE TABLE IF NOT EXISTS steps (
    lease_id INTEGER NOT NULL, sequence TEXT NOT NULL, step TEXT NOT NULL,
    result TEXT NOT NULL, status INTEGER, finished_at INTEGER NOT NULL,
    PRIMARY KEY (lease_id, sequence, step));
  CREATE TABLE IF NOT EXISTS usage_samples (
    lease_id INTEGER NOT NULL, at INTEGER NOT NULL, power_state TEXT NOT NULL, watts REAL,
    PRIMARY KEY (lease_id, at));
      `),
  },
];

/** The store's SQLite database as the migrator drives it. */
function migrationTargetOf(db: DatabaseSync): MigrationTarget {
  const target: MigrationTarget = {
    dialect: "sqlite",
    all: async <T>(sql: string, params: readonly SQLInputValue[] = []) =>
      db.prepare(sql.replace(/\$(\d+)/g, "?$1")).all(...params) as T[],
    run: async (sql: string, params: readonly SQLInputValue[] = []) =>
      Number(db.prepare(sql.replace(/\$(\d+)/g, "?$1")).run(...params).changes),
    exec: async (sql: string) => db.exec(sql),
    async transaction(work) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(target);
        db.exec("COMMIT");
        return result;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
  };
  return target;
}

/**
 * The agent's memory, in SQLite: the last block it followed, the events it applied, each lease's
 * place in its sequence, and the usage samples. Every change that must survive a crash is one
 * transaction, so a killed agent resumes exactly where it stood.
 */
export class AgentStore {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens the store at `path` (or `:memory:`) and migrates it to this release's schema. */
  static async open(path: string): Promise<AgentStore> {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    try {
      // WAL: readers never wait for the writer; NORMAL sync is durable across process crashes.
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
      await migrate(migrationTargetOf(db), AGENT_STORE_MIGRATIONS);
    } catch (error) {
      db.close();
      throw error;
    }
    return new AgentStore(db);
  }

  close(): void {
    this.#db.close();
  }

  /**
   * Ties the store to one market on one chain. A store made for another chain or deployment (a
   * local chain restarted, a new deployment) is refused with a clear message, never reused.
   */
  bindTo(identity: string): void {
    const stored = this.#meta("market");
    if (stored === undefined) this.#setMeta("market", identity);
    else if (stored !== identity) {
      throw new Error(
        `the agent's data belongs to another market (${stored}), not ${identity}: ` +
          "the chain was reset or the deployment changed; point the agent at a fresh data directory",
      );
    }
  }

  /** The last block whose events are applied, or undefined before the first. */
  checkpoint(): number | undefined {
    const value = this.#meta("checkpoint");
    return value === undefined ? undefined : Number(value);
  }

  /**
   * Applies a block range's lease events and moves the checkpoint past it, all or nothing.
   * `apply` runs for each event not applied before.
   */
  advance(toBlock: number, events: LeaseEventRecord[], apply: (event: LeaseEventRecord) => void): void {
    const insert = this.#db.prepare(
      "INSERT OR IGNORE INTO handled_events (tx_hash, log_index, block_number, name, lease_id) VALUES (?, ?, ?, ?, ?)",
    );
    this.#transaction(() => {
      for (const event of events) {
        const { changes } = insert.run(
          event.transactionHash,
          event.logIndex,
          event.blockNumber,
          event.name,
          event.leaseId,
        );
        if (Number(changes) === 1) apply(event);
      }
      this.#setMeta("checkpoint", String(toBlock));
    });
  }

  handledEvents(): LeaseEventRecord[] {
    return this.#db
      .prepare("SELECT * FROM handled_events ORDER BY block_number, log_index")
      .all()
      .map((row) => ({
        transactionHash: String(row.tx_hash),
        logIndex: Number(row.log_index),
        blockNumber: Number(row.block_number),
        name: String(row.name) as LeaseEventRecord["name"],
        leaseId: Number(row.lease_id),
      }));
  }

  addLease(lease: { leaseId: number; nodeId: number; start: number; end: number }): void {
    this.#db
      .prepare(
        "INSERT OR IGNORE INTO leases (lease_id, node_id, start, end, phase, updated_at) VALUES (?, ?, ?, ?, 'scheduled', ?)",
      )
      .run(lease.leaseId, lease.nodeId, lease.start, lease.end, Date.now());
  }

  lease(leaseId: number): LeaseRow | undefined {
    const row = this.#db.prepare("SELECT * FROM leases WHERE lease_id = ?").get(leaseId);
    return row === undefined ? undefined : leaseOf(row);
  }

  /** Leases not yet done, earliest start first. */
  openLeases(): LeaseRow[] {
    return this.#db
      .prepare("SELECT * FROM leases WHERE phase NOT IN ('done', 'stuck') ORDER BY start, lease_id")
      .all()
      .map(leaseOf);
  }

  leases(): LeaseRow[] {
    return this.#db.prepare("SELECT * FROM leases ORDER BY lease_id").all().map(leaseOf);
  }

  /** Brings the lease's end forward to `at` (a preemption with notice), never later than it was. */
  endBy(leaseId: number, at: number): void {
    this.#db
      .prepare('UPDATE leases SET "end" = MIN("end", ?), updated_at = ? WHERE lease_id = ?')
      .run(at, Date.now(), leaseId);
  }

  /** Records why the lease ends, unless a reason is already known. */
  setEndCause(leaseId: number, cause: string): void {
    this.#db
      .prepare("UPDATE leases SET end_cause = COALESCE(end_cause, ?), updated_at = ? WHERE lease_id = ?")
      .run(cause, Date.now(), leaseId);
  }

  /** Moves a lease to the first step of `phase`. */
  enterPhase(leaseId: number, phase: LeasePhase, fields: { provisioned?: boolean; error?: string | null } = {}): void {
    this.#db
      .prepare(
        `UPDATE leases SET phase = ?, step = 0, step_started_at = NULL, not_before = 0, updated_at = ?,
           provisioned = COALESCE(?, provisioned), error = CASE WHEN ? THEN ? ELSE error END WHERE lease_id = ?`,
      )
      .run(
        phase,
        Date.now(),
        fields.provisioned === undefined ? null : Number(fields.provisioned),
        Number(fields.error !== undefined),
        fields.error ?? null,
        leaseId,
      );
  }

  /** Notes that a step has begun, once: its clock survives restarts. */
  beginStep(leaseId: number): number {
    const now = Date.now();
    this.#db
      .prepare("UPDATE leases SET step_started_at = COALESCE(step_started_at, ?) WHERE lease_id = ?")
      .run(now, leaseId);
    return this.lease(leaseId)?.stepStartedAt ?? now;
  }

  /** Records a finished step and moves to the next, in one transaction. */
  finishStep(leaseId: number, sequence: Sequence, step: string, status: number | undefined): void {
    this.#transaction(() => {
      this.#db
        .prepare(
          "INSERT OR REPLACE INTO steps (lease_id, sequence, step, result, status, finished_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .run(leaseId, sequence, step, status === undefined ? "unchanged" : "done", status ?? null, Date.now());
      this.#db
        .prepare(
          "UPDATE leases SET step = step + 1, step_started_at = NULL, not_before = 0, updated_at = ? WHERE lease_id = ?",
        )
        .run(Date.now(), leaseId);
    });
  }

  /** Puts the lease aside until `notBefore`, noting why. */
  postpone(leaseId: number, notBefore: number, error: string): void {
    this.#db
      .prepare("UPDATE leases SET not_before = ?, error = ?, updated_at = ? WHERE lease_id = ?")
      .run(notBefore, error, Date.now(), leaseId);
  }

  steps(leaseId: number): { sequence: Sequence; step: string; result: string; status: number | null }[] {
    return this.#db
      .prepare("SELECT sequence, step, result, status FROM steps WHERE lease_id = ? ORDER BY finished_at, rowid")
      .all(leaseId)
      .map((row) => ({
        sequence: String(row.sequence) as Sequence,
        step: String(row.step),
        result: String(row.result),
        status: row.status === null ? null : Number(row.status),
      }));
  }

  addSample(leaseId: number, sample: UsageSample): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO usage_samples (lease_id, at, power_state, watts) VALUES (?, ?, ?, ?)")
      .run(leaseId, sample.at, sample.powerState, sample.watts);
  }

  samples(leaseId: number): UsageSample[] {
    return this.#db
      .prepare("SELECT at, power_state, watts FROM usage_samples WHERE lease_id = ? ORDER BY at")
      .all(leaseId)
      .map((row) => ({
        at: Number(row.at),
        powerState: String(row.power_state),
        watts: row.watts === null ? null : Number(row.watts),
      }));
  }

  #meta(key: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key);
    return row === undefined ? undefined : String(row.value);
  }

  #setMeta(key: string, value: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }

  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}

function leaseOf(row: Row): LeaseRow {
  return {
    leaseId: Number(row.lease_id),
    nodeId: Number(row.node_id),
    start: Number(row.start),
    end: Number(row.end),
    phase: String(row.phase) as LeasePhase,
    step: Number(row.step),
    stepStartedAt: row.step_started_at === null ? null : Number(row.step_started_at),
    endCause: row.end_cause === null ? null : String(row.end_cause),
    provisioned: Number(row.provisioned) === 1,
    error: row.error === null ? null : String(row.error),
    notBefore: Number(row.not_before),
  };
}
