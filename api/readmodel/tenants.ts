import type { Db } from "../db/database.js";

export interface TenantRow {
  tenant_id: number;
  name: string;
  status: number;
  created_at: number;
}

export function findTenant(db: Db, tenantId: number): Promise<TenantRow | undefined> {
  return db.get<TenantRow>("SELECT * FROM tenants WHERE tenant_id = $1", [tenantId]);
}

export async function tenantIds(db: Db): Promise<number[]> {
  return (await db.all<{ tenant_id: number }>("SELECT tenant_id FROM tenants ORDER BY tenant_id")).map((row) =>
    Number(row.tenant_id),
  );
}

/** A tenant's active members and its nodes, counted. */
export async function tenantCounts(db: Db, tenantId: number): Promise<{ members: number; nodes: number }> {
  const count = async (sql: string) => Number((await db.get<{ n: number }>(sql, [tenantId]))?.n ?? 0);
  return {
    members: await count("SELECT COUNT(*) AS n FROM members WHERE tenant_id = $1 AND active = 1"),
    nodes: await count("SELECT COUNT(*) AS n FROM nodes WHERE tenant_id = $1"),
  };
}

/** The tenant `account` is (or last was) a member of on-chain, if any. */
export async function memberTenantOf(db: Db, account: string): Promise<number | undefined> {
  const row = await db.get<{ tenant_id: number }>("SELECT tenant_id FROM members WHERE account = $1", [
    account.toLowerCase(),
  ]);
  return row === undefined ? undefined : Number(row.tenant_id);
}
