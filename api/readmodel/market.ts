import { LeaseStatus, NodeStatus, OfferStatus, TenantStatus } from "../../sdk/index.js";
import type { Db } from "../db/database.js";

/** One lease made, as price statistics read it. */
export interface SaleRow {
  price_per_hour: string;
  model: number;
  created_at: number;
  cost: string;
}

/** Leases made since `from`, in time order; with `fit`, only priced ones on nodes at least that size. */
export function salesSince(db: Db, from: number, fit?: { cores: number; memoryGiB: number }): Promise<SaleRow[]> {
  if (fit === undefined) {
    return db.all<SaleRow>(
      `SELECT l.price_per_hour, o.model, l.created_at, l.cost FROM leases l JOIN offers o ON o.offer_id = l.offer_id
       WHERE l.created_at >= $1 ORDER BY l.created_at`,
      [from],
    );
  }
  return db.all<SaleRow>(
    `SELECT l.price_per_hour, o.model, l.created_at, l.cost FROM leases l
     JOIN nodes n ON n.node_id = l.node_id JOIN offers o ON o.offer_id = l.offer_id
     WHERE n.cores >= $1 AND n.memory_gib >= $2 AND l.created_at >= $3 AND l.price_per_hour IS NOT NULL
     ORDER BY l.created_at, l.lease_id`,
    [fit.cores, fit.memoryGiB, from],
  );
}

/** Active tenants, nodes not retired, open offers and leases not ended. */
export async function marketCounts(
  db: Db,
): Promise<{ tenants: number; nodes: number; openOffers: number; activeLeases: number }> {
  const count = async (sql: string, params: number[]) => Number((await db.get<{ n: number }>(sql, params))?.n ?? 0);
  return {
    tenants: await count("SELECT COUNT(*) AS n FROM tenants WHERE status = $1", [TenantStatus.Active]),
    nodes: await count("SELECT COUNT(*) AS n FROM nodes WHERE status <> $1", [NodeStatus.Retired]),
    openOffers: await count("SELECT COUNT(*) AS n FROM offers WHERE status = $1", [OfferStatus.Open]),
    activeLeases: await count("SELECT COUNT(*) AS n FROM leases WHERE status IN ($1, $2)", [
      LeaseStatus.Pending,
      LeaseStatus.Active,
    ]),
  };
}
