import { migrate, type Migration } from "../../sdk/migrations.js";
import { openDatabase, type Db } from "./database.js";

/**
 * Drops the read model so that the indexer rebuilds it from the chain in its new shape. The table
 * list is frozen here, not `READ_MODEL_TABLES`: a migration must do the same on every database.
 */
async function dropReadModel(db: Db): Promise<void> {
  for (const table of [
    "indexer_state",
    "indexed_blocks",
    "events",
    "event_links",
    "tenants",
    "members",
    "nodes",
    "offers",
    "leases",
    "bids",
    "commits",
    "rounds",
    "credit_requests",
  ]) {
    await db.exec(`DROP TABLE IF EXISTS ${table}`);
  }
}

/**
 * The history of the gateway's own state: users, keys, sessions, custodial wallets, sealed bids,
 * webhooks, idempotency keys. Unlike the read model (rebuilt from the chain whenever its schema
 * changes) this state exists nowhere else, so each change is a new step here, never an edit.
 */
export const GATEWAY_MIGRATIONS: readonly Migration<Db>[] = [
  {
    // The schema as the first releases created it (IF NOT EXISTS: their databases adopt it as is).
    name: "0001-baseline",
    up: (db) =>
      db.exec(`
        -- the chain the state belongs to
        CREATE TABLE IF NOT EXISTS gateway_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        -- users, API keys, sessions, wallet challenges
        CREATE TABLE IF NOT EXISTS users (
          user_id TEXT PRIMARY KEY, tenant_id BIGINT, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
          roles TEXT NOT NULL, address TEXT NOT NULL, custodial INTEGER NOT NULL, password_hash TEXT,
          created_at BIGINT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS users_by_tenant ON users (tenant_id);
        CREATE INDEX IF NOT EXISTS users_by_address ON users (address);
        CREATE TABLE IF NOT EXISTS api_keys (
          key_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, secret_hash TEXT NOT NULL, label TEXT NOT NULL,
          created_at BIGINT NOT NULL, revoked_at BIGINT);
        CREATE TABLE IF NOT EXISTS sessions (
          token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS wallet_challenges (
          nonce TEXT PRIMARY KEY, address TEXT NOT NULL, message TEXT NOT NULL, expires_at BIGINT NOT NULL);
        -- custodial keys, sealed
        CREATE TABLE IF NOT EXISTS wallets (
          address TEXT PRIMARY KEY, sealed_key TEXT NOT NULL, created_at BIGINT NOT NULL);
        -- Idempotency-Key answers
        CREATE TABLE IF NOT EXISTS idempotency (
          owner TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER,
          response TEXT, created_at BIGINT NOT NULL, PRIMARY KEY (owner, idem_key));
        CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (created_at);
        -- webhooks and their deliveries
        CREATE TABLE IF NOT EXISTS webhooks (
          webhook_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, url TEXT NOT NULL, sealed_secret TEXT NOT NULL,
          types TEXT NOT NULL, created_at BIGINT NOT NULL, active INTEGER NOT NULL DEFAULT 1);
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
          webhook_id TEXT NOT NULL, notification_id TEXT NOT NULL, payload TEXT NOT NULL, attempts INTEGER NOT NULL,
          next_attempt_at BIGINT NOT NULL, status TEXT NOT NULL, last_error TEXT, delivered_at BIGINT,
          PRIMARY KEY (webhook_id, notification_id));
        CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        -- sealed bids: terms and salts, sealed
        CREATE TABLE IF NOT EXISTS sealed_bids (
          bid_ref TEXT PRIMARY KEY, user_id TEXT NOT NULL, bidder TEXT NOT NULL, round_id BIGINT NOT NULL,
          commitment TEXT NOT NULL, deposit TEXT NOT NULL, sealed TEXT NOT NULL, state TEXT NOT NULL,
          bid_id BIGINT, lease_id BIGINT, error TEXT, image TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
        CREATE INDEX IF NOT EXISTS sealed_bids_open ON sealed_bids (state, round_id);
        CREATE INDEX IF NOT EXISTS sealed_bids_by_user ON sealed_bids (user_id, created_at);
      `),
  },
  {
    // Idempotency keys remember the transactions their request sent (answers are sealed from now on).
    name: "0002-idempotency-transactions",
    up: async (db) => {
      await db.exec("ALTER TABLE idempotency ADD COLUMN tx_hashes TEXT");
      // Answers and fingerprints kept in clear by earlier releases go: a retry of those is a new request.
      await db.run("DELETE FROM idempotency");
    },
  },
  {
    // Webhooks are delivered from the events table: each keeps the last event it was given.
    // NULL: from the first event the indexer holds after this release starts.
    name: "0003-webhook-cursors",
    up: async (db) => {
      await db.exec("ALTER TABLE webhooks ADD COLUMN after_event BIGINT");
      // Old deliveries that ran out of attempts are this release's dead letters.
      await db.run("UPDATE webhook_deliveries SET status = 'dead' WHERE status = 'failed'");
    },
  },
  {
    // The read model at a million events: events keep their audit record as JSON, events and
    // leases are keyed by their own ids (SQLite's rowid), and a covering index serves free-slice
    // searches. The read model is rebuilt from the chain, not altered: it is dropped here and the
    // indexer starts it again in the new shape (event ids, and so webhook cursors, stay the same).
    name: "0005_read-model-at-scale",
    up: dropReadModel,
  },
  {
    // A revealed bid keeps the image its lease boots (the chain has it in BidRevealed only).
    name: "0006_bid-images",
    up: dropReadModel,
  },
  {
    // Sealed reserve prices of auction offers: price and salt sealed, revealed in the round's window.
    name: "0007_sealed-reserves",
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS sealed_reserves (
          reserve_ref TEXT PRIMARY KEY, user_id TEXT NOT NULL, seller TEXT NOT NULL, node_id BIGINT NOT NULL,
          offer_id BIGINT, round_id BIGINT, commitment TEXT NOT NULL, sealed TEXT NOT NULL, state TEXT NOT NULL,
          error TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
        CREATE INDEX IF NOT EXISTS sealed_reserves_open ON sealed_reserves (state, round_id);
        CREATE INDEX IF NOT EXISTS sealed_reserves_by_offer ON sealed_reserves (offer_id, round_id);
      `),
  },
];

/** Opens the gateway's database (a SQLite path or a `postgres://` URL) and migrates it to this release. */
export async function openGatewayDatabase(url: string): Promise<Db> {
  const db = await openDatabase(url);
  try {
    await migrate(db, GATEWAY_MIGRATIONS);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
