import type { JsonRpcProvider } from "ethers";

import { LeaseStatus, type ChainNow, type Deployment, type MarketContracts } from "../sdk/index.js";
import type { SealedBids } from "./bids/sealed-bids.js";
import type { SealedReserves } from "./offers/sealed-reserves.js";
import type { GatewaySettings } from "./config.js";
import type { Db } from "./db/database.js";
import { forbidden, invalidInput } from "./errors.js";
import type { User, Users } from "./identity/users.js";
import type { GasAllowance, Wallets } from "./identity/wallets.js";
import type { Indexer } from "./indexer/indexer.js";
import { refusedImage } from "./notify/destinations.js";
import type { NotificationStreams } from "./notify/streams.js";
import type { ReadModelAnswers } from "./readmodel/answers.js";
import { leaseRow } from "./readmodel/leases.js";
import type { Webhooks } from "./notify/webhooks.js";
import type { Send } from "./transactions.js";

/** What route handlers work with. */
export interface Services {
  settings: GatewaySettings;
  db: Db;
  provider: JsonRpcProvider;
  deployment: Deployment;
  /** The contracts, read-only. */
  market: MarketContracts;
  users: Users;
  wallets: Wallets;
  indexer: Indexer;
  bids: SealedBids;
  reserves: SealedReserves;
  streams: NotificationStreams;
  webhooks: Webhooks;
  /** The first admin's account: pays custodial accounts' gas where gas has a price. */
  operator: string;
  gas: GasAllowance;
  /** The origin people reach the gateway at (`publicUrl`, else where it listens). */
  origin: string;
  /** The chain's notion of now, in unix seconds (never behind the latest block). */
  chainTime(): Promise<number>;
  /** The chain's clock: its head, its block period and when the next block can come. */
  clock(): Promise<ChainNow>;
  /**
   * Now as the read model knows it, in unix seconds: its newest block's time, or the wall clock
   * when that is later. Asks the chain nothing, so a read answered from the read model alone costs
   * no round trip; it may trail the chain by the blocks not indexed yet.
   */
  readModelTime(): number;
  /**
   * Answers worked out from the read model, kept until it changes: one store per endpoint, so that
   * one's many answers asked once (audit pages after arbitrary cursors) do not push out another's.
   */
  answers: { timeslots: ReadModelAnswers; audit: ReadModelAnswers };
  send: Send;
}

/** The image a booking or bid boots: the one it names, checked, or the gateway's default. */
export function bootImage(
  services: Pick<Services, "settings">,
  image: string | undefined,
  field = "body.image",
): string {
  if (image === undefined) return services.settings.defaultImage;
  const refused = refusedImage(image, services.settings.images.allowInternalNetworks);
  if (refused !== undefined) throw invalidInput(field, refused);
  return image;
}

/** Lease states in which a buyer still holds the lease. */
const HELD_LEASE_STATES: readonly number[] = [LeaseStatus.Pending, LeaseStatus.Active];

/**
 * A lease a request names as the one it replaces must be the caller's own and still held: naming
 * someone else's would release it on their behalf, and an ended one would void the bid for free.
 */
export async function requireOwnLease(
  services: Pick<Services, "db">,
  caller: User,
  leaseId: number,
  field = "body.replacesLease",
): Promise<void> {
  const lease = await leaseRow(services.db, leaseId);
  if (lease === undefined || lease.buyer !== caller.address) {
    throw invalidInput(field, `lease ${leaseId} is not one of yours`);
  }
  if (!HELD_LEASE_STATES.includes(Number(lease.status))) {
    throw invalidInput(field, `lease ${leaseId} has ended: there is nothing to replace`);
  }
}

/** Admins and auditors see every tenant; everyone else only their own. */
export function requireTenantView(caller: User, tenantId: number): void {
  if (caller.roles.includes("admin") || caller.roles.includes("auditor")) return;
  if (caller.tenantId !== tenantId) throw forbidden(`you are not a member of tenant ${tenantId}`);
}

/** Admins manage every tenant; tenant admins only their own. */
export function requireTenantAdmin(caller: User, tenantId: number): void {
  if (caller.roles.includes("admin")) return;
  if (caller.tenantId !== tenantId || !caller.roles.includes("tenantAdmin")) {
    throw forbidden(`you do not administer tenant ${tenantId}`);
  }
}
