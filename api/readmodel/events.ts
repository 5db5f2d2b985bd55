import type { Db, SqlValue } from "../db/database.js";
import { storedEventOf, type EventRow, type IndexedEvent } from "../indexer/indexer.js";
import type { LinkKind } from "../indexer/projection.js";

/** What an audit page is narrowed by: what events link to, their names, blocks and times. */
export interface AuditFilter {
  account?: string;
  tenant?: number;
  node?: number;
  lease?: number;
  offer?: number;
  round?: number;
  /** Event names, comma-separated. */
  type?: string;
  fromBlock?: number;
  toBlock?: number;
  from?: number;
  to?: number;
  /** The last event id of the previous page. */
  after?: number;
}

/** An event's id and its audit record, as the JSON text the read model keeps. */
export interface AuditRow {
  id: number;
  record: string;
}

/** One page of the audit records of events matching `query`, in chain order after `query.after`. */
export async function auditPage(db: Db, query: AuditFilter, limit: number): Promise<AuditRow[]> {
  const links: [LinkKind, string][] = [];
  if (query.account !== undefined) links.push(["account", query.account]);
  if (query.tenant !== undefined) links.push(["tenant", String(query.tenant)]);
  if (query.node !== undefined) links.push(["node", String(query.node)]);
  if (query.lease !== undefined) links.push(["lease", String(query.lease)]);
  if (query.offer !== undefined) links.push(["offer", String(query.offer)]);
  if (query.round !== undefined) links.push(["round", String(query.round)]);

  const params: SqlValue[] = [];
  const where: string[] = [`e.id > $${params.push(query.after ?? -1)}`];
  const [driver, ...rest] = links;
  let from = "events e";
  if (driver !== undefined) {
    // The most selective part drives the scan: the link index is ordered by event id.
    from = "event_links d JOIN events e ON e.id = d.event_id";
    where.push(`d.kind = $${params.push(driver[0])}`, `d.value = $${params.push(driver[1])}`);
  }
  for (const [kind, value] of rest) {
    where.push(
      `EXISTS (SELECT 1 FROM event_links x WHERE x.event_id = e.id AND x.kind = $${params.push(kind)} AND x.value = $${params.push(value)})`,
    );
  }
  if (query.type !== undefined) {
    const names = query.type.split(",");
    where.push(`e.name IN (${names.map((name) => `$${params.push(name)}`).join(", ")})`);
  }
  if (query.fromBlock !== undefined) where.push(`e.block_number >= $${params.push(query.fromBlock)}`);
  if (query.toBlock !== undefined) where.push(`e.block_number <= $${params.push(query.toBlock)}`);
  if (query.from !== undefined) where.push(`e.timestamp >= $${params.push(query.from)}`);
  if (query.to !== undefined) where.push(`e.timestamp < $${params.push(query.to)}`);
  const order = driver === undefined ? "e.id" : "d.event_id";
  const rows = await db.all<AuditRow>(
    `SELECT e.id, e.record FROM ${from} WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT $${params.push(limit)}`,
    params,
  );
  return rows.map((row) => ({ id: Number(row.id), record: row.record }));
}

/** Events named `names` after event `afterEventId`, in chain order, `limit` at most. */
export async function eventsAfter(
  db: Db,
  afterEventId: number,
  names: readonly string[],
  limit: number,
): Promise<IndexedEvent[]> {
  const rows = await db.all<EventRow>(
    `SELECT * FROM events WHERE id > $1 AND name IN (${names.map((_, i) => `$${i + 2}`).join(", ")})
     ORDER BY id LIMIT ${Math.floor(limit)}`,
    [afterEventId, ...names],
  );
  return rows.map(storedEventOf);
}

/** The id of the newest event the read model holds (0 before any). */
export async function newestEventId(db: Db): Promise<number> {
  return Number((await db.get<{ id: number | null }>("SELECT MAX(id) AS id FROM events"))?.id ?? 0);
}
