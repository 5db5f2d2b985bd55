import { z } from "zod";

import {
  NodeStatus,
  OfferStatus,
  PriceModel,
  TenantStatus,
  dynamicPrice,
  nameOf,
  withinDailyWindow,
  type Interval,
} from "../../sdk/index.js";
import type { Db } from "../db/database.js";
import { credits } from "../http/schemas.js";

/** An `offers` row joined with its node, as the read model holds it. */
export interface OfferRow {
  offer_id: number;
  node_id: number;
  seller: string;
  starts_at: number;
  ends_at: number;
  slice_seconds: number;
  min_slices: number;
  max_slices: number;
  from_hour: number;
  to_hour: number;
  model: number;
  price_per_hour: string;
  surge_bps: number;
  reserve_sealed: number;
  status: number;
  round_id: number;
  booked_slices: number;
  created_at: number;
  last_sold_at: number | null;
  tenant_id: number;
  cores: number;
  memory_gib: number;
  storage_gb: number;
  network_gbps: number;
  gpus: number;
  arch: number;
  node_status: number;
}

export const OFFER_SELECT = `
  SELECT o.*, n.tenant_id, n.cores, n.memory_gib, n.storage_gb, n.network_gbps, n.gpus, n.arch,
         n.status AS node_status
  FROM offers o JOIN nodes n ON n.node_id = o.node_id`;

export type PriceModelName = "fixed" | "dynamic" | "auction";
export const PRICE_MODELS: readonly PriceModelName[] = ["fixed", "dynamic", "auction"];
export const modelName = (model: number): PriceModelName => PRICE_MODELS[model] ?? "fixed";

/**
 * The price an offer posts now, as `Offers.postedPrice`: a dynamic offer's base price rises with
 * the share of its slices already booked, capped at the surge; an auction's is its public reserve
 * (`null` while the reserve is sealed).
 */
export function postedPrice(offer: OfferRow): bigint | null {
  const base = BigInt(offer.price_per_hour);
  if (offer.model === PriceModel.Auction) return Number(offer.reserve_sealed) === 1 ? null : base;
  if (offer.model !== PriceModel.Dynamic) return base;
  const capacity = BigInt(Math.floor((offer.ends_at - offer.starts_at) / offer.slice_seconds));
  return dynamicPrice(base, BigInt(offer.surge_bps), BigInt(offer.booked_slices), capacity);
}

export function findOffer(db: Db, offerId: number): Promise<OfferRow | undefined> {
  return db.get<OfferRow>(`${OFFER_SELECT} WHERE o.offer_id = $1`, [offerId]);
}

/** What an offer list is narrowed by; `unsoldSince`: open offers with no sale since then. */
export interface OfferFilter {
  nodeId?: number;
  tenantId?: number;
  model?: number;
  status?: number;
  unsoldSince?: number;
}

export function listOffers(db: Db, filter: OfferFilter): Promise<OfferRow[]> {
  const where: string[] = [];
  const params: number[] = [];
  if (filter.nodeId !== undefined) where.push(`o.node_id = $${params.push(filter.nodeId)}`);
  if (filter.tenantId !== undefined) where.push(`n.tenant_id = $${params.push(filter.tenantId)}`);
  if (filter.model !== undefined) where.push(`o.model = $${params.push(filter.model)}`);
  if (filter.status !== undefined) where.push(`o.status = $${params.push(filter.status)}`);
  if (filter.unsoldSince !== undefined) {
    where.push(
      `o.status = $${params.push(OfferStatus.Open)} AND COALESCE(o.last_sold_at, o.created_at) <= $${params.push(filter.unsoldSince)}`,
    );
  }
  return db.all<OfferRow>(
    `${OFFER_SELECT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY o.offer_id`,
    params,
  );
}

/** One bookable slice of an offer. */
export interface FreeSlice {
  sliceId: string;
  offer: OfferRow;
  start: number;
  end: number;
}

/** `<offerId>-<start>`: a slice's id in the time-slice API. */
export function sliceIdOf(offerId: number, start: number): string {
  return `${offerId}-${start}`;
}

export function parseSliceId(sliceId: string): { offerId: number; start: number } | undefined {
  const match = /^(\d{1,10})-(\d{1,11})$/.exec(sliceId);
  if (match === null) return undefined;
  return { offerId: Number(match[1]), start: Number(match[2]) };
}

export interface SliceSearch {
  cpu: number;
  ramGiB: number;
  start: number;
  end: number;
  now: number;
  model?: PriceModelName;
  maxPricePerHour?: bigint;
  limit: number;
  /** Continue after this slice (the previous page's last). */
  after?: { offerId: number; start: number };
}

/**
 * Free slices that meet the needs within `[start, end)`: open offers (earliest listed first) on
 * available nodes of active tenants with enough cores and memory, slice by slice, less what is
 * booked, outside the offer's daily hours, or already over.
 */
export async function findFreeSlices(db: Db, search: SliceSearch): Promise<FreeSlice[]> {
  const params: (number | string)[] = [
    OfferStatus.Open,
    NodeStatus.Available,
    TenantStatus.Active,
    search.cpu,
    search.ramGiB,
    search.end,
    Math.max(search.start, search.now),
    search.after?.offerId ?? 0,
  ];
  const model = search.model === undefined ? "" : `AND o.model = $${params.push(PRICE_MODELS.indexOf(search.model))}`;
  const offers = await db.all<OfferRow>(
    `${OFFER_SELECT} JOIN tenants t ON t.tenant_id = n.tenant_id
     WHERE o.status = $1 AND n.status = $2 AND t.status = $3 AND n.cores >= $4 AND n.memory_gib >= $5
       AND o.starts_at < $6 AND o.ends_at > $7 AND o.offer_id >= $8 ${model}
     ORDER BY o.offer_id`,
    params,
  );
  const priced = offers.filter((offer) => {
    const price = postedPrice(offer);
    return search.maxPricePerHour === undefined || price === null || price <= search.maxPricePerHour;
  });
  const from = Math.max(search.start, search.now - 1);
  const reach = await longestLease(db);
  const slices: FreeSlice[] = [];
  // Offers are taken in batches until the page is full. Per batch, one query tells which nodes are
  // booked through the whole range (most, in a busy market, and nothing of theirs is free) and a
  // second reads the bookings of the others only: a node's bookings in a day are 24 index entries.
  for (let i = 0; i < priced.length && slices.length < search.limit; i += OFFERS_PER_QUERY) {
    const batch = priced.slice(i, i + OFFERS_PER_QUERY);
    const nodeIds = [...new Set(batch.map((offer) => Number(offer.node_id)))];
    const covered = await coverageByNode(db, nodeIds, from, search.end, reach);
    const full = new Set(nodeIds.filter((nodeId) => (covered.get(nodeId) ?? 0) >= search.end - from));
    const partial = nodeIds.filter((nodeId) => (covered.get(nodeId) ?? 0) > 0 && !full.has(nodeId));
    const booked =
      partial.length === 0 ? new Map<number, Interval[]>() : await bookedByNode(db, partial, from, search.end, reach);
    for (const offer of batch) {
      if (full.has(Number(offer.node_id))) continue;
      freeSlicesOf(offer, search, booked.get(Number(offer.node_id)) ?? [], slices);
      if (slices.length >= search.limit) break;
    }
  }
  return slices;
}

const OFFERS_PER_QUERY = 32;

/** No lease is longer than the longest an offer allows, which bounds an index scan from below. */
async function longestLease(db: Db): Promise<number> {
  const longest = await db.get<{ span: number | null }>("SELECT MAX(max_slices * slice_seconds) AS span FROM offers");
  return Number(longest?.span ?? 0);
}

/**
 * How many seconds of `[from, to)` are booked on each of `nodeIds` (nodes with none are left out).
 * A node's bookings never overlap, so the sum of their parts inside the range tells whether it is
 * booked through. `reach`: the longest a lease may be.
 */
async function coverageByNode(
  db: Db,
  nodeIds: number[],
  from: number,
  to: number,
  reach: number,
): Promise<Map<number, number>> {
  const placeholders = nodeIds.map((_, i) => `$${i + 4}`).join(", ");
  const rows = await db.all<{ node_id: number; covered: number | string }>(
    `SELECT node_id,
       SUM((CASE WHEN booked_until < $2 THEN booked_until ELSE $2 END) - (CASE WHEN starts_at > $1 THEN starts_at ELSE $1 END))
         AS covered
     FROM leases
     WHERE node_id IN (${placeholders}) AND starts_at >= $3 AND starts_at < $2
       AND booked_until > starts_at AND booked_until > $1
     GROUP BY node_id`,
    [from, to, from - reach, ...nodeIds],
  );
  // PostgreSQL sums BIGINTs as NUMERIC, which arrives as text.
  return new Map(rows.map((row) => [Number(row.node_id), Number(row.covered)]));
}

/** Booked intervals on `nodeIds` overlapping `[from, to)`, by node, in order; `reach`: the longest a lease may be. */
export async function bookedByNode(
  db: Db,
  nodeIds: number[],
  from: number,
  to: number,
  reach?: number,
): Promise<Map<number, Interval[]>> {
  const placeholders = nodeIds.map((_, i) => `$${i + 4}`).join(", ");
  const rows = await db.all<{ node_id: number; starts_at: number; booked_until: number }>(
    `SELECT node_id, starts_at, booked_until FROM leases
     WHERE node_id IN (${placeholders}) AND starts_at >= $3 AND starts_at < $2
       AND booked_until > starts_at AND booked_until > $1
     ORDER BY node_id, starts_at`,
    [from, to, from - (reach ?? (await longestLease(db))), ...nodeIds],
  );
  const byNode = new Map<number, Interval[]>();
  for (const row of rows) {
    const intervals = byNode.get(Number(row.node_id)) ?? [];
    intervals.push({ start: Number(row.starts_at), end: Number(row.booked_until) });
    byNode.set(Number(row.node_id), intervals);
  }
  return byNode;
}

/** Appends the free slices of one offer to `out`, up to the search's limit. */
function freeSlicesOf(offer: OfferRow, search: SliceSearch, booked: readonly Interval[], out: FreeSlice[]): void {
  const slice = Number(offer.slice_seconds);
  const first = Math.max(search.start, Number(offer.starts_at), search.now - slice + 1);
  let start = Number(offer.starts_at) + Math.ceil((first - Number(offer.starts_at)) / slice) * slice;
  if (search.after !== undefined && Number(offer.offer_id) === search.after.offerId) {
    start = Math.max(start, search.after.start + slice);
  }
  const to = Math.min(search.end, Number(offer.ends_at));
  // A node's bookings never overlap one another, so one pass over them, in order, will do.
  let next = 0;
  for (; start + slice <= to && out.length < search.limit; start += slice) {
    const end = start + slice;
    while (next < booked.length && (booked[next]?.end ?? 0) <= start) next += 1;
    if ((booked[next]?.start ?? Infinity) < end) continue;
    if (!withinDailyWindow(offer.from_hour, offer.to_hour, start, end)) continue;
    out.push({ sliceId: sliceIdOf(Number(offer.offer_id), start), offer, start, end });
  }
}

/** An offer as the API shows it. */
export function offerView(offer: OfferRow) {
  return {
    offerId: Number(offer.offer_id),
    nodeId: Number(offer.node_id),
    tenantId: Number(offer.tenant_id),
    seller: offer.seller,
    start: Number(offer.starts_at),
    end: Number(offer.ends_at),
    sliceSeconds: Number(offer.slice_seconds),
    minSlices: Number(offer.min_slices),
    maxSlices: Number(offer.max_slices),
    hours:
      Number(offer.from_hour) === Number(offer.to_hour)
        ? null
        : { from: Number(offer.from_hour), to: Number(offer.to_hour) },
    model: modelName(Number(offer.model)),
    basePricePerHour: credits(BigInt(offer.price_per_hour)),
    pricePerHour: credits(postedPrice(offer)),
    surgeBps: Number(offer.surge_bps),
    roundId: Number(offer.round_id) === 0 ? null : Number(offer.round_id),
    status: String(nameOf(OfferStatus, Number(offer.status)) ?? "None").toLowerCase(),
    createdAt: Number(offer.created_at),
    lastSoldAt: offer.last_sold_at === null ? null : Number(offer.last_sold_at),
    resources: resourcesOf(offer),
  };
}

/** A node's resources as the API shows them. */
export const resourcesSchema = z.object({
  cores: z.number(),
  memoryGiB: z.number(),
  storageGB: z.number(),
  networkGbps: z.number(),
  gpus: z.number(),
  arch: z.number().describe("0 any, 1 x86_64, 2 aarch64, 3 riscv64"),
});

export function resourcesOf(
  node: Pick<OfferRow, "cores" | "memory_gib" | "storage_gb" | "network_gbps" | "gpus" | "arch">,
): z.infer<typeof resourcesSchema> {
  return {
    cores: Number(node.cores),
    memoryGiB: Number(node.memory_gib),
    storageGB: Number(node.storage_gb),
    networkGbps: Number(node.network_gbps),
    gpus: Number(node.gpus),
    arch: Number(node.arch),
  };
}
