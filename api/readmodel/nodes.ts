import type { Db } from "../db/database.js";

/** A node as the read model holds it. */
export interface NodeRow {
  node_id: number;
  tenant_id: number;
  provider: string;
  agent: string;
  calendar_unit: number;
  cores: number;
  memory_gib: number;
  storage_gb: number;
  network_gbps: number;
  gpus: number;
  arch: number;
  attributes: string;
  status: number;
  registered_at: number;
}

export function findNode(db: Db, nodeId: number): Promise<NodeRow | undefined> {
  return db.get<NodeRow>("SELECT * FROM nodes WHERE node_id = $1", [nodeId]);
}

/** Nodes with at least `cores` and `memoryGiB`, of a tenant and in a status when given, by id. */
export function listNodes(
  db: Db,
  filter: { cores: number; memoryGiB: number; tenantId?: number; status?: number },
): Promise<NodeRow[]> {
  const params: number[] = [filter.cores, filter.memoryGiB];
  let where = "cores >= $1 AND memory_gib >= $2";
  if (filter.tenantId !== undefined) where += ` AND tenant_id = $${params.push(filter.tenantId)}`;
  if (filter.status !== undefined) where += ` AND status = $${params.push(filter.status)}`;
  return db.all<NodeRow>(`SELECT * FROM nodes WHERE ${where} ORDER BY node_id`, params);
}
