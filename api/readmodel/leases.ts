import { z } from "zod";

import { EndReason, LeaseStatus, deliveredSoFar, nameOf } from "../../sdk/index.js";
import type { Db } from "../db/database.js";
import { credits, isoTime } from "../http/schemas.js";

export interface LeaseRow {
  lease_id: number;
  buyer: string;
  node_id: number;
  offer_id: number;
  starts_at: number;
  ends_at: number;
  booked_until: number;
  cost: string;
  price_per_hour: string | null;
  replaces_lease: number;
  status: number;
  end_reason: number;
  paid: string | null;
  refund: string | null;
  image: string | null;
  node_address: string | null;
  failure: string | null;
  usage_hash: string | null;
  metered_until: number | null;
  created_at: number;
  provisioned_at: number | null;
  ended_at: number | null;
  cleaned_at: number | null;
  tenant_id: number;
  provider: string;
}

export const LEASE_SELECT = `
  SELECT l.*, n.tenant_id, n.provider FROM leases l JOIN nodes n ON n.node_id = l.node_id`;

export const leaseSchema = z.object({
  leaseId: z.number(),
  buyer: z.string(),
  nodeId: z.number(),
  offerId: z.number(),
  providerTenantId: z.number(),
  start: z.string().describe("ISO 8601"),
  end: z.string().describe("ISO 8601"),
  status: z.enum(["pending", "active", "ended", "cleaned"]),
  endReason: z.string().nullable(),
  pricePerHour: z.string().nullable(),
  cost: z.string(),
  paid: z.string().nullable(),
  refund: z.string().nullable(),
  image: z.string().nullable(),
  nodeAddress: z.string().nullable(),
  failure: z.string().nullable(),
  replacesLease: z.number().nullable(),
  provisionedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  cleanedAt: z.string().nullable(),
});

export function leaseView(row: LeaseRow): z.infer<typeof leaseSchema> {
  const status = String(nameOf(LeaseStatus, Number(row.status)) ?? "Pending").toLowerCase();
  const reason = Number(row.end_reason);
  return {
    leaseId: Number(row.lease_id),
    buyer: row.buyer,
    nodeId: Number(row.node_id),
    offerId: Number(row.offer_id),
    providerTenantId: Number(row.tenant_id),
    start: isoTime(row.starts_at) ?? "",
    end: isoTime(row.ends_at) ?? "",
    status: status as z.infer<typeof leaseSchema>["status"],
    endReason: reason === 0 ? null : String(nameOf(EndReason, reason)).toLowerCase(),
    pricePerHour: credits(row.price_per_hour),
    cost: credits(row.cost) ?? "0",
    paid: credits(row.paid),
    refund: credits(row.refund),
    image: row.image,
    nodeAddress: row.node_address,
    failure: row.failure,
    replacesLease: Number(row.replaces_lease) === 0 ? null : Number(row.replaces_lease),
    provisionedAt: isoTime(row.provisioned_at),
    endedAt: isoTime(row.ended_at),
    cleanedAt: isoTime(row.cleaned_at),
  };
}

export async function leaseRow(db: Db, leaseId: number): Promise<LeaseRow | undefined> {
  return db.get<LeaseRow>(`${LEASE_SELECT} WHERE l.lease_id = $1`, [leaseId]);
}

/** What a lease list is narrowed by; `visibleTo`: only leases the account bought or its tenant's nodes hold. */
export interface LeaseFilter {
  visibleTo?: { account: string; tenantId: number | null };
  status?: number;
  nodeId?: number;
  buyer?: string;
  /** The last lease id of the previous page: newest first. */
  before?: number;
  limit: number;
}

export function listLeases(db: Db, filter: LeaseFilter): Promise<LeaseRow[]> {
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (filter.visibleTo !== undefined) {
    where.push(
      `(l.buyer = $${params.push(filter.visibleTo.account)} OR n.tenant_id = $${params.push(filter.visibleTo.tenantId ?? -1)})`,
    );
  }
  if (filter.status !== undefined) where.push(`l.status = $${params.push(filter.status)}`);
  if (filter.nodeId !== undefined) where.push(`l.node_id = $${params.push(filter.nodeId)}`);
  if (filter.buyer !== undefined) where.push(`l.buyer = $${params.push(filter.buyer)}`);
  if (filter.before !== undefined) where.push(`l.lease_id < $${params.push(filter.before)}`);
  return db.all<LeaseRow>(
    `${LEASE_SELECT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY l.lease_id DESC LIMIT $${params.push(filter.limit)}`,
    params,
  );
}

/** The leases of offer `offerId` that hold the moment `at`, newest first. */
export function leasesHolding(db: Db, offerId: number, at: number): Promise<LeaseRow[]> {
  return db.all<LeaseRow>(
    `${LEASE_SELECT} WHERE l.offer_id = $1 AND l.starts_at <= $2 AND l.ends_at > $2 ORDER BY l.lease_id DESC`,
    [offerId, at],
  );
}

/** A lease's buyer and its node's provider: who hears of it. */
export async function leaseParties(db: Db, leaseId: number): Promise<string[]> {
  const row = await leaseRow(db, leaseId);
  return row === undefined ? [] : [...new Set([row.buyer, row.provider])];
}

export const usageSchema = z.object({
  lease: leaseSchema,
  elapsedSeconds: z.number().describe("seconds of the lease delivered so far"),
  accrued: z.string().describe("credits the delivered time costs at the lease's price"),
  metering: z
    .object({
      recordHash: z.string().describe("keccak256 of the agent's usage record, anchored on-chain"),
      meteredUntil: z.string(),
    })
    .nullable(),
  samples: z
    .array(z.object({ at: z.string(), powerState: z.string(), watts: z.number().nullable() }))
    .describe("the agent's samples, when its usage endpoint is configured and they match the on-chain hash"),
});

/** What a lease has used so far: time delivered and its cost, and the agent's anchored metering. */
export function usageOf(row: LeaseRow, now: number): Omit<z.infer<typeof usageSchema>, "samples"> {
  // Counted as the contract pays: from provisioning (never before the start) to now, the end, or
  // the moment the lease ended; once settled, what was paid.
  const lease = {
    start: BigInt(row.starts_at),
    end: BigInt(row.ends_at),
    cost: BigInt(row.cost),
    provisionedAt: row.provisioned_at === null ? 0n : BigInt(row.provisioned_at),
  };
  const delivered = deliveredSoFar(lease, BigInt(row.ended_at ?? now));
  const accrued = row.paid === null ? delivered.accrued : BigInt(row.paid);
  return {
    lease: leaseView(row),
    elapsedSeconds: Number(delivered.seconds),
    accrued: credits(accrued) ?? "0",
    metering:
      row.usage_hash === null ? null : { recordHash: row.usage_hash, meteredUntil: isoTime(row.metered_until) ?? "" },
  };
}
