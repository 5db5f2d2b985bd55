/**
 * The gateway's records as its JSON answers carry them, for its clients (the `market` CLI and the
 * portal). Plain types with no imports, so that the browser build can use them too;
 * `records.check.ts` proves at compile time that they are exactly what the routes' schemas answer.
 */

export type Role = "admin" | "tenantAdmin" | "buyer" | "provider" | "auditor";
export type PriceModelName = "fixed" | "dynamic" | "auction";

export interface Resources {
  cores: number;
  memoryGiB: number;
  storageGB: number;
  networkGbps: number;
  gpus: number;
  /** 0 any, 1 x86_64, 2 aarch64, 3 riscv64 */
  arch: number;
}

export interface Tenant {
  tenantId: number;
  name: string;
  status: "active" | "suspended" | "deleted";
  createdAt: string;
  members: number;
  nodes: number;
}

export interface User {
  userId: string;
  tenantId: number | null;
  name: string;
  email: string;
  roles: Role[];
  address: string;
  custodial: boolean;
  disabled: boolean;
}

/** Credits, as decimal strings of credits. */
export interface Balance {
  address: string;
  wallet: string;
  available: string;
  escrowed: string;
}

export interface CreditRequest {
  requestId: number;
  requester: string;
  amount: string;
  reason: string;
  status: "pending" | "approved" | "rejected" | "cancelled";
  decidedBy: string | null;
  decisionReason: string | null;
  createdAt: string;
  decidedAt: string | null;
}

export interface Node {
  nodeId: number;
  tenantId: number;
  provider: string;
  agent: string;
  calendarUnitSeconds: number;
  resources: Resources;
  attributes: string;
  status: "available" | "maintenance" | "retired";
  registeredAt: string;
}

/** Times are unix seconds. */
export interface Offer {
  offerId: number;
  nodeId: number;
  tenantId: number;
  seller: string;
  start: number;
  end: number;
  sliceSeconds: number;
  minSlices: number;
  maxSlices: number;
  hours: { from: number; to: number } | null;
  model: PriceModelName;
  basePricePerHour: string | null;
  pricePerHour: string | null;
  surgeBps: number;
  roundId: number | null;
  status: string;
  createdAt: number;
  lastSoldAt: number | null;
  resources: Resources;
}

/** A free time-slice: `sliceId` is `<offerId>-<start unix seconds>`; times are ISO 8601. */
export interface Slice {
  sliceId: string;
  offerId: number;
  nodeId: number;
  start: string;
  end: string;
  sliceSeconds: number;
  minSlices: number;
  maxSlices: number;
  model: PriceModelName;
  pricePerHour: string | null;
  roundId: number | null;
  resources: Resources;
}

export interface Lease {
  leaseId: number;
  buyer: string;
  nodeId: number;
  offerId: number;
  providerTenantId: number;
  start: string;
  end: string;
  status: "pending" | "active" | "ended" | "cleaned";
  endReason: string | null;
  pricePerHour: string | null;
  cost: string;
  paid: string | null;
  refund: string | null;
  image: string | null;
  nodeAddress: string | null;
  failure: string | null;
  replacesLease: number | null;
  provisionedAt: string | null;
  endedAt: string | null;
  cleanedAt: string | null;
}

export interface Usage {
  lease: Lease;
  elapsedSeconds: number;
  accrued: string;
  metering: { recordHash: string; meteredUntil: string } | null;
  samples: { at: string; powerState: string; watts: number | null }[];
}

export interface Bid {
  bidRef: string;
  roundId: number;
  state: "sealed" | "committed" | "revealed" | "matched" | "unmatched" | "failed" | "missed";
  commitment: string;
  deposit: string;
  revealOpensAt: string;
  revealClosesAt: string;
  terms: {
    offerId: number | null;
    profileId: number;
    start: string;
    durationMinutes: number;
    pricePerHour: string;
    replacesLease: number | null;
  } | null;
  bidId: number | null;
  leaseId: number | null;
  error: string | null;
}

export interface PriceStats {
  sales: number;
  average: string | null;
  median: string | null;
  last: string | null;
  min: string | null;
  max: string | null;
}

export interface AuditRecord {
  id: number;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  timestamp: string;
  contract: string;
  address: string;
  event: string;
  args: Record<string, unknown>;
  verified?: boolean;
  verifyError?: string;
}
