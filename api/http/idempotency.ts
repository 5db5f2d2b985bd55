import { createHash } from "node:crypto";

import type { Db } from "../db/database.js";
import { ApiError } from "./problem.js";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS idempotency (
    owner TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER,
    response TEXT, created_at BIGINT NOT NULL, PRIMARY KEY (owner, idem_key));
  CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (created_at);
`;

/** Keys are kept this long; a retry after that is a new request. */
const RETENTION_SECONDS = 24 * 60 * 60;
const MAX_KEY_LENGTH = 255;
/** Expired keys are swept at most this often, not on every request. */
const PRUNE_INTERVAL_SECONDS = 60;

export interface StoredAnswer {
  status: number;
  body: string;
}

/**
 * `Idempotency-Key` for POSTs: the first request with a key claims it before doing anything; a
 * retry with the same key and request gets the first answer back and sends nothing; the same key
 * with another request is refused. Server errors release the key, so the request can be retried.
 */
export class IdempotencyKeys {
  readonly #db: Db;
  #prunedAt = 0;

  private constructor(db: Db) {
    this.#db = db;
  }

  static async open(db: Db): Promise<IdempotencyKeys> {
    await db.exec(SCHEMA);
    return new IdempotencyKeys(db);
  }

  /**
   * Claims `key` for `owner`'s request, or returns the answer already given to it.
   * Throws a 409 while the first request is still running, and a 422 for a different request.
   */
  async claim(owner: string, key: string, request: unknown): Promise<StoredAnswer | undefined> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw ApiError.badRequest("header.Idempotency-Key", `must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const fingerprint = createHash("sha256").update(JSON.stringify(request)).digest("hex");
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
    const row = await this.#db.get<{ fingerprint: string; status: number | null; response: string | null }>(
      "SELECT fingerprint, status, response FROM idempotency WHERE owner = $1 AND idem_key = $2",
      [owner, key],
    );
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
    return { status: Number(row.status), body: row.response };
  }

  /** Records the answer to a claimed request; a server error frees the key instead. */
  async settle(owner: string, key: string, answer: StoredAnswer): Promise<void> {
    if (answer.status >= 500) {
      await this.#db.run("DELETE FROM idempotency WHERE owner = $1 AND idem_key = $2", [owner, key]);
      return;
    }
    await this.#db.run("UPDATE idempotency SET status = $3, response = $4 WHERE owner = $1 AND idem_key = $2", [
      owner,
      key,
      answer.status,
      answer.body,
    ]);
  }
}
