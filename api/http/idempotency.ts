import type { Db } from "../db/database.js";
import type { MasterKey } from "../identity/secrets.js";
import { invalidInput } from "../errors.js";
import { ApiError } from "./problem.js";

/** Keys are kept this long; a retry after that is a new request. */
const RETENTION_SECONDS = 24 * 60 * 60;
const MAX_KEY_LENGTH = 255;
/** Expired keys are swept at most this often, not on every request. */
const PRUNE_INTERVAL_SECONDS = 60;

export interface StoredAnswer {
  status: number;
  body: string;
}

/** What the chain says of a transaction a request sent. */
export type TransactionOutcome = "mined" | "reverted" | "unknown";

interface Row {
  fingerprint: string;
  status: number | null;
  response: string | null;
  tx_hashes: string | null;
}

/**
 * `Idempotency-Key` for POSTs: the first request with a key claims it before doing anything; a
 * retry with the same key and request gets the first answer back and sends nothing; the same key
 * with another request is refused.
 *
 * Nothing secret is kept in clear: answers (which may show a new API key, a session token or a
 * webhook secret) are sealed under the master key, and requests (a login's password) are known
 * only by a keyed hash. A request that failed with a server error frees its key, unless it had
 * sent a transaction: then a retry is reconciled from the receipts (mined: the effect holds and
 * is not repeated; reverted: nothing happened and the retry runs), so it never books twice.
 */
export class IdempotencyKeys {
  readonly #db: Db;
  readonly #master: MasterKey;
  readonly #outcomeOf: (txHash: string) => Promise<TransactionOutcome>;
  #prunedAt = 0;

  constructor(db: Db, master: MasterKey, outcomeOf: (txHash: string) => Promise<TransactionOutcome>) {
    this.#db = db;
    this.#master = master;
    this.#outcomeOf = outcomeOf;
  }

  /**
   * Claims `key` for `owner`'s request, or returns the answer already given to it.
   * Throws a 409 while the first request is still running, and a 422 for a different request.
   */
  async claim(owner: string, key: string, request: unknown): Promise<StoredAnswer | undefined> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw invalidInput("header.Idempotency-Key", `must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const fingerprint = this.#master.mac("idempotency", JSON.stringify(request));
    const now = Math.floor(Date.now() / 1000);
    if (now - this.#prunedAt >= PRUNE_INTERVAL_SECONDS) {
      this.#prunedAt = now;
      await this.#db.run("DELETE FROM idempotency WHERE created_at < $1", [now - RETENTION_SECONDS]);
    }
    const claimed = await this.#db.run(
      `INSERT INTO idempotency (owner, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (owner, idem_key) DO NOTHING`,
      [owner, key, fingerprint, now],
    );
    if (claimed === 1) return undefined;
    const row = await this.#row(this.#db, owner, key);
    if (row === undefined) return this.claim(owner, key, request);
    if (row.fingerprint !== fingerprint) {
      throw new ApiError(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        "this Idempotency-Key was used for a different request",
        [{ field: "header.Idempotency-Key", message: "used for a different request" }],
      );
    }
    if (row.status === null || row.response === null) {
      throw new ApiError(409, "request-in-progress", "Request in progress", "a request with this key is still running");
    }
    if (Number(row.status) >= 500) return this.#reconcile(owner, key, request, sentOf(row));
    return { status: Number(row.status), body: this.#master.open("idempotency", sealOwner(owner, key), row.response) };
  }

  /** Notes a transaction the claimed request sent, before its receipt is awaited. */
  async recordTransaction(owner: string, key: string, txHash: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const row = await this.#row(tx, owner, key);
      await tx.run("UPDATE idempotency SET tx_hashes = $3 WHERE owner = $1 AND idem_key = $2", [
        owner,
        key,
        JSON.stringify([...(row === undefined ? [] : sentOf(row)), txHash]),
      ]);
    });
  }

  /**
   * Records the answer to a claimed request, sealed. A server error frees the key when nothing
   * was sent; when something was, it is kept for a retry to reconcile.
   */
  async settle(owner: string, key: string, answer: StoredAnswer): Promise<void> {
    if (answer.status >= 500) {
      const row = await this.#row(this.#db, owner, key);
      if (row === undefined || sentOf(row).length === 0) {
        await this.#release(owner, key);
        return;
      }
    }
    await this.#db.run("UPDATE idempotency SET status = $3, response = $4 WHERE owner = $1 AND idem_key = $2", [
      owner,
      key,
      answer.status,
      this.#master.seal("idempotency", sealOwner(owner, key), answer.body),
    ]);
  }

  /** A retry of a request that failed after sending: what the chain says decides. */
  async #reconcile(owner: string, key: string, request: unknown, sent: string[]): Promise<StoredAnswer | undefined> {
    const outcomes = await Promise.all(sent.map((hash) => this.#outcomeOf(hash)));
    if (outcomes.every((outcome) => outcome === "reverted")) {
      // Nothing the request did holds on-chain: the retry runs as the first attempt.
      await this.#release(owner, key);
      return this.claim(owner, key, request);
    }
    if (outcomes.includes("unknown")) {
      throw new ApiError(
        409,
        "request-in-progress",
        "Request in progress",
        `the first attempt sent ${sent.join(", ")}, not mined yet: retry later`,
      );
    }
    throw new ApiError(
      409,
      "request-already-applied",
      "Request already applied",
      `the first attempt failed after its transactions were mined (${sent.join(", ")}): what it did holds; ` +
        "read the result back instead of sending it again",
    );
  }

  #row(db: Db, owner: string, key: string): Promise<Row | undefined> {
    return db.get<Row>(
      "SELECT fingerprint, status, response, tx_hashes FROM idempotency WHERE owner = $1 AND idem_key = $2",
      [owner, key],
    );
  }

  async #release(owner: string, key: string): Promise<void> {
    await this.#db.run("DELETE FROM idempotency WHERE owner = $1 AND idem_key = $2", [owner, key]);
  }
}

/** What a stored answer is sealed to: its owner and key, so it opens for no other request. */
function sealOwner(owner: string, key: string): string {
  return `${owner}\n${key}`;
}

function sentOf(row: Row): string[] {
  return row.tx_hashes === null ? [] : (JSON.parse(row.tx_hashes) as string[]);
}
