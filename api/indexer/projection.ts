import { LeaseStatus, OfferStatus, PriceModel } from "../../sdk/index.js";
import type { Db } from "../db/database.js";

/** An event as the read model stores it: arguments as JSON, with integers as decimal strings. */
export interface StoredEvent {
  id: number;
  blockNumber: number;
  timestamp: number;
  contract: string;
  name: string;
  args: Record<string, unknown>;
}

/** What an event is about, for audit filters: accounts, tenants, nodes, leases, offers, rounds. */
export type LinkKind = "account" | "tenant" | "node" | "lease" | "offer" | "round";

/** Encodes decoded arguments as JSON: bigints become decimal strings, addresses stay as they are. */
export function argsToJson(args: object): string {
  return JSON.stringify(args, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

const num = (value: unknown): number => Number(value);
const text = (value: unknown): string => String(value);
const addr = (value: unknown): string => String(value).toLowerCase();
const field = (value: unknown, name: string): unknown => (value as Record<string, unknown>)[name];
/** A node's resources in the order the `nodes` table keeps them. */
const resourceValues = (r: unknown): number[] =>
  ["cores", "memoryGiB", "storageGB", "networkGbps", "gpus", "arch"].map((name) => num(field(r, name)));

/**
 * Applies one event to the projected tables and records what it links to. Pure in the sense that
 * matters here: the tables after a sequence of events depend on nothing but those events, which
 * is what makes a rebuild equal to incremental indexing.
 */
export async function project(db: Db, event: StoredEvent): Promise<void> {
  const a = event.args;
  const at = event.timestamp;
  const links = new Links();
  for (const [key, value] of Object.entries(a)) {
    if (typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value) && key !== "directory")
      links.add("account", addr(value));
  }

  switch (event.name) {
    case "TenantCreated":
      links.add("tenant", text(a.tenantId));
      await db.run("INSERT INTO tenants (tenant_id, name, status, created_at) VALUES ($1, $2, 1, $3)", [
        num(a.tenantId),
        text(a.name),
        at,
      ]);
      break;
    case "TenantStatusChanged":
      links.add("tenant", text(a.tenantId));
      await db.run("UPDATE tenants SET status = $2 WHERE tenant_id = $1", [num(a.tenantId), num(a.status)]);
      break;
    case "MemberAdded":
    case "MemberRolesChanged":
      links.add("tenant", text(a.tenantId));
      await db.run(
        `INSERT INTO members (account, tenant_id, roles, active) VALUES ($1, $2, $3, 1)
         ON CONFLICT (account) DO UPDATE SET tenant_id = $2, roles = $3, active = 1`,
        [addr(a.account), num(a.tenantId), num(a.roles)],
      );
      break;
    case "MemberInvited":
      // No member until the account accepts (`MemberAdded`); the tenant's audit trail shows the invitation.
      links.add("tenant", text(a.tenantId));
      break;
    case "MemberRemoved":
      links.add("tenant", text(a.tenantId));
      await db.run("UPDATE members SET active = 0 WHERE account = $1", [addr(a.account)]);
      break;
    case "NodeRegistered": {
      const r = a.resources;
      links.add("node", text(a.nodeId)).add("tenant", text(a.tenantId));
      await db.run(
        `INSERT INTO nodes (node_id, tenant_id, provider, agent, calendar_unit, cores, memory_gib, storage_gb,
           network_gbps, gpus, arch, attributes, status, registered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)`,
        [
          num(a.nodeId),
          num(a.tenantId),
          addr(a.provider),
          addr(a.agent),
          num(a.calendarUnit),
          ...resourceValues(r),
          text(a.attributes),
          at,
        ],
      );
      break;
    }
    case "NodeUpdated": {
      const r = a.resources;
      links.add("node", text(a.nodeId));
      await db.run(
        `UPDATE nodes SET cores = $2, memory_gib = $3, storage_gb = $4, network_gbps = $5, gpus = $6, arch = $7,
           attributes = $8 WHERE node_id = $1`,
        [num(a.nodeId), ...resourceValues(r), text(a.attributes)],
      );
      break;
    }
    case "NodeAgentChanged":
      links.add("node", text(a.nodeId));
      await db.run("UPDATE nodes SET agent = $2 WHERE node_id = $1", [num(a.nodeId), addr(a.agent)]);
      break;
    case "NodeStatusChanged":
      links.add("node", text(a.nodeId));
      await db.run("UPDATE nodes SET status = $2 WHERE node_id = $1", [num(a.nodeId), num(a.status)]);
      break;
    case "NodeHeldForOperator":
      links.add("node", text(a.nodeId));
      break;
    case "OfferCreated": {
      const t = a.terms;
      links.add("offer", text(a.offerId)).add("node", text(a.nodeId));
      await db.run(
        `INSERT INTO offers (offer_id, node_id, seller, starts_at, ends_at, slice_seconds, min_slices, max_slices,
           from_hour, to_hour, model, price_per_hour, surge_bps, reserve_sealed, status, round_id, booked_slices,
           created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, 0, $16)`,
        [
          num(a.offerId),
          num(a.nodeId),
          addr(a.seller),
          num(field(t, "start")),
          num(field(t, "end")),
          num(field(t, "sliceSeconds")),
          num(field(t, "minSlices")),
          num(field(t, "maxSlices")),
          num(field(t, "fromHour")),
          num(field(t, "toHour")),
          num(field(t, "model")),
          text(field(t, "pricePerHour")),
          num(field(t, "surgeBps")),
          /^0x0*$/.test(text(field(t, "sealedReserve"))) ? 0 : 1,
          OfferStatus.Open,
          at,
        ],
      );
      break;
    }
    case "OfferClosed":
      links.add("offer", text(a.offerId));
      await db.run("UPDATE offers SET status = $2 WHERE offer_id = $1", [num(a.offerId), OfferStatus.Closed]);
      break;
    case "OfferRepriced":
      links.add("offer", text(a.offerId));
      await db.run("UPDATE offers SET price_per_hour = $2 WHERE offer_id = $1", [num(a.offerId), text(a.pricePerHour)]);
      break;
    case "OfferEnrolled":
      links.add("offer", text(a.offerId)).add("round", text(a.roundId));
      await db.run("UPDATE offers SET round_id = $2, price_per_hour = $3, reserve_sealed = $4 WHERE offer_id = $1", [
        num(a.offerId),
        num(a.roundId),
        text(a.reservePerHour),
        /^0x0*$/.test(text(a.sealedReserve)) ? 0 : 1,
      ]);
      break;
    case "ReserveRevealed":
      links.add("offer", text(a.offerId)).add("round", text(a.roundId));
      await db.run("UPDATE offers SET price_per_hour = $2, reserve_sealed = 0 WHERE offer_id = $1", [
        num(a.offerId),
        text(a.reservePerHour),
      ]);
      break;
    case "OfferBooked":
      links.add("offer", text(a.offerId)).add("lease", text(a.leaseId));
      // Only a dynamic offer's price moves with what is booked (`Offers._tryBook`).
      await db.run(
        `UPDATE offers SET last_sold_at = $2,
           booked_slices = booked_slices + CASE WHEN model = $4 THEN CAST($3 AS BIGINT) / slice_seconds ELSE 0 END
         WHERE offer_id = $1`,
        [num(a.offerId), at, num(a.end) - num(a.start), PriceModel.Dynamic],
      );
      await db.run("UPDATE leases SET price_per_hour = $2 WHERE lease_id = $1", [num(a.leaseId), text(a.pricePerHour)]);
      break;
    case "CalendarReleased":
      links.add("offer", text(a.offerId)).add("node", text(a.nodeId));
      await db.run(
        `UPDATE offers SET booked_slices = CASE WHEN booked_slices > CAST($2 AS BIGINT) / slice_seconds
           THEN booked_slices - CAST($2 AS BIGINT) / slice_seconds ELSE 0 END WHERE offer_id = $1`,
        [num(a.offerId), num(a.to) - num(a.from)],
      );
      // A release frees the tail of one lease's booking.
      await db.run(
        `UPDATE leases SET booked_until = CASE WHEN starts_at > $2 THEN starts_at ELSE $2 END
         WHERE node_id = $1 AND offer_id = $4 AND booked_until > $2 AND starts_at < $3`,
        [num(a.nodeId), num(a.from), num(a.to), num(a.offerId)],
      );
      break;
    case "LeaseCreated":
      links.add("lease", text(a.leaseId)).add("node", text(a.nodeId)).add("offer", text(a.offerId));
      await db.run(
        `INSERT INTO leases (lease_id, buyer, node_id, offer_id, starts_at, ends_at, booked_until, cost,
           replaces_lease, status, end_reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, 0, $10)`,
        [
          num(a.leaseId),
          addr(a.buyer),
          num(a.nodeId),
          num(a.offerId),
          num(a.start),
          num(a.end),
          text(a.cost),
          num(a.replacesLease),
          LeaseStatus.Pending,
          at,
        ],
      );
      await db.run("UPDATE offers SET last_sold_at = $2 WHERE offer_id = $1", [num(a.offerId), at]);
      break;
    case "LeaseImageSet":
      await db.run("UPDATE leases SET image = $2 WHERE lease_id = $1", [num(a.leaseId), text(a.image)]);
      break;
    case "LeaseProvisioned":
      await db.run("UPDATE leases SET status = $2, node_address = $3, provisioned_at = $4 WHERE lease_id = $1", [
        num(a.leaseId),
        LeaseStatus.Active,
        text(a.nodeAddress),
        at,
      ]);
      break;
    case "LeaseFailed":
      await db.run("UPDATE leases SET failure = $2 WHERE lease_id = $1", [num(a.leaseId), text(a.reason)]);
      break;
    case "LeaseUsageReported":
      await db.run("UPDATE leases SET usage_hash = $2, metered_until = $3 WHERE lease_id = $1", [
        num(a.leaseId),
        text(a.recordHash),
        num(a.meteredUntil),
      ]);
      break;
    case "LeaseEnded":
      await db.run(
        `UPDATE leases SET status = $2, end_reason = $3, paid = $4, refund = $5, ended_at = $6 WHERE lease_id = $1`,
        [num(a.leaseId), LeaseStatus.Ended, num(a.reason), text(a.paid), text(a.refund), at],
      );
      break;
    case "LeaseCleaned":
      await db.run("UPDATE leases SET status = $2, cleaned_at = $3 WHERE lease_id = $1", [
        num(a.leaseId),
        LeaseStatus.Cleaned,
        at,
      ]);
      break;
    case "BidCommitted":
      links.add("round", text(a.roundId));
      await db.run(
        `INSERT INTO commits (bidder, commitment, round_id, deposit, state, committed_at)
         VALUES ($1, $2, $3, $4, 'committed', $5)`,
        [addr(a.bidder), text(a.commitment), num(a.roundId), text(a.deposit), at],
      );
      break;
    case "BidForfeited":
      links.add("round", text(a.roundId));
      await db.run("UPDATE commits SET state = 'forfeited' WHERE bidder = $1 AND commitment = $2", [
        addr(a.bidder),
        text(a.commitment),
      ]);
      break;
    case "BidRevealed":
      links.add("round", text(a.roundId));
      if (num(a.offerId) !== 0) links.add("offer", text(a.offerId));
      await db.run(
        `INSERT INTO bids (round_id, bid_id, bidder, offer_id, profile_id, starts_at, duration, price_per_hour,
           replaces_lease, image, state, revealed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'revealed', $11)`,
        [
          num(a.roundId),
          num(a.bidId),
          addr(a.bidder),
          num(a.offerId),
          num(a.profileId),
          num(a.start),
          num(a.duration),
          text(a.pricePerHour),
          num(a.replacesLease),
          text(a.image),
          at,
        ],
      );
      break;
    case "BidMatched":
      links.add("round", text(a.roundId)).add("lease", text(a.leaseId));
      await db.run(
        "UPDATE bids SET state = 'matched', lease_id = $3, cost = $4, refund = $5 WHERE round_id = $1 AND bid_id = $2",
        [num(a.roundId), num(a.bidId), num(a.leaseId), text(a.cost), text(a.refund)],
      );
      // Pay-as-bid: the lease's price per hour is the bid's; it boots the image the bid named, which
      // the chain keeps in the bid's BidRevealed event only.
      await db.run(
        `UPDATE leases SET (price_per_hour, image) =
           (SELECT price_per_hour, NULLIF(image, '') FROM bids WHERE round_id = $1 AND bid_id = $2)
         WHERE lease_id = $3`,
        [num(a.roundId), num(a.bidId), num(a.leaseId)],
      );
      break;
    case "BidUnmatched":
      links.add("round", text(a.roundId));
      await db.run("UPDATE bids SET state = 'unmatched', refund = $3 WHERE round_id = $1 AND bid_id = $2", [
        num(a.roundId),
        num(a.bidId),
        text(a.refund),
      ]);
      break;
    case "RoundCleared":
      links.add("round", text(a.roundId));
      await db.run("INSERT INTO rounds (round_id, bids, matched, cleared_at) VALUES ($1, $2, $3, $4)", [
        num(a.roundId),
        num(a.bids),
        num(a.matched),
        at,
      ]);
      break;
    case "CreditsRequested":
      await db.run(
        `INSERT INTO credit_requests (request_id, requester, amount, reason, status, created_at)
         VALUES ($1, $2, $3, $4, 1, $5)`,
        [num(a.requestId), addr(a.requester), text(a.amount), text(a.reason), at],
      );
      break;
    case "CreditRequestApproved":
    case "CreditRequestRejected":
    case "CreditRequestCancelled": {
      const status = { CreditRequestApproved: 2, CreditRequestRejected: 3, CreditRequestCancelled: 4 }[event.name];
      await db.run(
        `UPDATE credit_requests SET status = $2, decided_by = $3, decision_reason = $4, decided_at = $5
         WHERE request_id = $1`,
        [
          num(a.requestId),
          status,
          a.by === undefined ? null : addr(a.by),
          a.reason === undefined ? null : text(a.reason),
          at,
        ],
      );
      break;
    }
    default:
      break;
  }

  await linkContext(db, event, links);
  for (const [kind, value] of links) {
    await db.run("INSERT INTO event_links (kind, value, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
      kind,
      value,
      event.id,
    ]);
  }
}

/** Adds the links an event implies through the read model: a lease's node and buyer, a node's tenant. */
async function linkContext(db: Db, event: StoredEvent, links: Links): Promise<void> {
  const leaseId = event.args.leaseId;
  if (leaseId !== undefined && num(leaseId) !== 0) {
    links.add("lease", text(leaseId));
    const lease = await db.get<{ node_id: number; offer_id: number; buyer: string }>(
      "SELECT node_id, offer_id, buyer FROM leases WHERE lease_id = $1",
      [num(leaseId)],
    );
    if (lease !== undefined) {
      links.add("node", String(lease.node_id)).add("offer", String(lease.offer_id)).add("account", lease.buyer);
    }
  }
  const offerId = event.args.offerId;
  if (offerId !== undefined && num(offerId) !== 0 && !links.has("node")) {
    const offer = await db.get<{ node_id: number }>("SELECT node_id FROM offers WHERE offer_id = $1", [num(offerId)]);
    if (offer !== undefined) links.add("node", String(offer.node_id));
  }
  for (const nodeId of links.values("node")) {
    const node = await db.get<{ tenant_id: number }>("SELECT tenant_id FROM nodes WHERE node_id = $1", [
      Number(nodeId),
    ]);
    if (node !== undefined) links.add("tenant", String(node.tenant_id));
  }
  for (const account of links.values("account")) {
    const member = await db.get<{ tenant_id: number }>("SELECT tenant_id FROM members WHERE account = $1", [account]);
    if (member !== undefined) links.add("tenant", String(member.tenant_id));
  }
}

/** A set of (kind, value) links. */
class Links implements Iterable<[LinkKind, string]> {
  readonly #set = new Map<string, [LinkKind, string]>();

  add(kind: LinkKind, value: string): this {
    this.#set.set(`${kind}:${value}`, [kind, value]);
    return this;
  }

  has(kind: LinkKind): boolean {
    return this.values(kind).length > 0;
  }

  values(kind: LinkKind): string[] {
    return [...this.#set.values()].filter(([k]) => k === kind).map(([, value]) => value);
  }

  [Symbol.iterator](): Iterator<[LinkKind, string]> {
    return this.#set.values();
  }
}
