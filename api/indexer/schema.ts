/**
 * The read model: every market event as the chain emitted it, and tables projected from those
 * events alone. It is disposable: `READ_MODEL_TABLES` are dropped and rebuilt from the chain, and a
 * rebuild gives exactly what incremental indexing gave. Amounts and prices are decimal strings of
 * base units, since they may exceed 64 bits. An event's id is its place on the chain
 * (`eventId`), so ids, cursors and links are the same however often the model is rebuilt.
 *
 * Ids given by the chain are `{{serial}}` keys, always given, never generated: on SQLite that
 * makes them the rowid, so a look-up by id (every event a link points at, every lease an event
 * updates) searches one B-tree, not an index and then the table. Each event keeps its audit record
 * as JSON (`record`); `leases_calendar` covers what a free-slice search reads of a node's bookings.
 * A change here is also a gateway migration that drops the read model (see `0005_`), so that an
 * existing database is rebuilt in the new shape rather than left in the old one.
 */
export const READ_MODEL_SCHEMA = `
  CREATE TABLE IF NOT EXISTS indexer_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS indexed_blocks (
    number BIGINT PRIMARY KEY, hash TEXT NOT NULL, timestamp BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS events (
    id {{serial}}, block_number BIGINT NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    block_hash TEXT NOT NULL, timestamp BIGINT NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL,
    record TEXT NOT NULL, UNIQUE (block_number, log_index));
  CREATE INDEX IF NOT EXISTS events_by_name ON events (name, id);
  CREATE INDEX IF NOT EXISTS events_by_time ON events (timestamp, id);
  CREATE TABLE IF NOT EXISTS event_links (
    kind TEXT NOT NULL, value TEXT NOT NULL, event_id BIGINT NOT NULL, PRIMARY KEY (kind, value, event_id));
  CREATE INDEX IF NOT EXISTS event_links_by_event ON event_links (event_id);
  CREATE TABLE IF NOT EXISTS tenants (
    tenant_id BIGINT PRIMARY KEY, name TEXT NOT NULL, status INTEGER NOT NULL, created_at BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS members (
    account TEXT PRIMARY KEY, tenant_id BIGINT NOT NULL, roles INTEGER NOT NULL, active INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS nodes (
    node_id BIGINT PRIMARY KEY, tenant_id BIGINT NOT NULL, provider TEXT NOT NULL, agent TEXT NOT NULL,
    calendar_unit BIGINT NOT NULL, cores INTEGER NOT NULL, memory_gib INTEGER NOT NULL, storage_gb INTEGER NOT NULL,
    network_gbps INTEGER NOT NULL, gpus INTEGER NOT NULL, arch INTEGER NOT NULL, attributes TEXT NOT NULL,
    status INTEGER NOT NULL, registered_at BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS offers (
    offer_id BIGINT PRIMARY KEY, node_id BIGINT NOT NULL, seller TEXT NOT NULL, starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL, slice_seconds BIGINT NOT NULL, min_slices INTEGER NOT NULL, max_slices INTEGER NOT NULL,
    from_hour INTEGER NOT NULL, to_hour INTEGER NOT NULL, model INTEGER NOT NULL, price_per_hour TEXT NOT NULL,
    surge_bps INTEGER NOT NULL, reserve_sealed INTEGER NOT NULL, status INTEGER NOT NULL, round_id BIGINT NOT NULL,
    booked_slices BIGINT NOT NULL, created_at BIGINT NOT NULL, last_sold_at BIGINT);
  CREATE INDEX IF NOT EXISTS offers_by_node ON offers (node_id);
  CREATE TABLE IF NOT EXISTS leases (
    lease_id {{serial}}, buyer TEXT NOT NULL, node_id BIGINT NOT NULL, offer_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL, ends_at BIGINT NOT NULL, booked_until BIGINT NOT NULL, cost TEXT NOT NULL,
    price_per_hour TEXT, replaces_lease BIGINT NOT NULL, status INTEGER NOT NULL, end_reason INTEGER NOT NULL,
    paid TEXT, refund TEXT, image TEXT, node_address TEXT, failure TEXT, usage_hash TEXT, metered_until BIGINT,
    created_at BIGINT NOT NULL, provisioned_at BIGINT, ended_at BIGINT, cleaned_at BIGINT);
  CREATE INDEX IF NOT EXISTS leases_calendar ON leases (node_id, starts_at, booked_until);
  CREATE INDEX IF NOT EXISTS leases_by_buyer ON leases (buyer, lease_id);
  CREATE TABLE IF NOT EXISTS bids (
    round_id BIGINT NOT NULL, bid_id BIGINT NOT NULL, bidder TEXT NOT NULL, offer_id BIGINT NOT NULL,
    profile_id INTEGER NOT NULL, starts_at BIGINT NOT NULL, duration BIGINT NOT NULL, price_per_hour TEXT NOT NULL,
    replaces_lease BIGINT NOT NULL, image TEXT NOT NULL, state TEXT NOT NULL, lease_id BIGINT, cost TEXT, refund TEXT,
    revealed_at BIGINT NOT NULL, PRIMARY KEY (round_id, bid_id));
  CREATE INDEX IF NOT EXISTS bids_by_bidder ON bids (bidder);
  CREATE TABLE IF NOT EXISTS commits (
    bidder TEXT NOT NULL, commitment TEXT NOT NULL, round_id BIGINT NOT NULL, deposit TEXT NOT NULL,
    state TEXT NOT NULL, committed_at BIGINT NOT NULL, PRIMARY KEY (bidder, commitment));
  CREATE TABLE IF NOT EXISTS rounds (
    round_id BIGINT PRIMARY KEY, bids INTEGER NOT NULL, matched INTEGER NOT NULL, cleared_at BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS credit_requests (
    request_id BIGINT PRIMARY KEY, requester TEXT NOT NULL, amount TEXT NOT NULL, reason TEXT NOT NULL,
    status INTEGER NOT NULL, decided_by TEXT, decision_reason TEXT, created_at BIGINT NOT NULL, decided_at BIGINT);
`;

/** Every table of the read model, in an order that can be emptied and compared. */
export const READ_MODEL_TABLES = [
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
] as const;

/** The tables projected from `events`: emptied and replayed after a reorganisation. */
export const PROJECTED_TABLES = READ_MODEL_TABLES.slice(4);

/** Log indexes stay far below this in any block a gas limit allows. */
const LOGS_PER_BLOCK = 100_000;

/** The id of the event at `logIndex` of block `blockNumber`: ordered as the chain orders events. */
export function eventId(blockNumber: number, logIndex: number): number {
  return blockNumber * LOGS_PER_BLOCK + logIndex;
}
