import type { Db } from "../db/database.js";
import { credits } from "../http/schemas.js";
import type { User } from "../identity/users.js";
import type { IndexedEvent } from "../indexer/indexer.js";
import { findBid } from "../readmodel/bids.js";
import { findCreditRequest } from "../readmodel/credit-requests.js";
import { leaseParties } from "../readmodel/leases.js";
import { findNode } from "../readmodel/nodes.js";
import { memberTenantOf } from "../readmodel/tenants.js";

/** What a user is told about. */
export const NOTIFICATION_TYPES = [
  "lease.created",
  "lease.provisioned",
  "lease.failed",
  "lease.preempted",
  "lease.ended",
  "lease.refunded",
  "credits.granted",
  "credits.request.decided",
  "bid.matched",
  "bid.unmatched",
  "node.held",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface Notification {
  /** Unique and stable: the chain event's id and the type. */
  id: string;
  type: NotificationType;
  at: string;
  txHash: string;
  data: Record<string, unknown>;
}

/** The chain events that notify anyone: what streams replay and webhooks read from the events table. */
export const NOTIFYING_EVENTS = [
  "LeaseCreated",
  "LeaseProvisioned",
  "LeaseFailed",
  "LeasePreempted",
  "LeaseEnded",
  "CreditsGranted",
  "CreditRequestApproved",
  "CreditRequestRejected",
  "BidMatched",
  "BidUnmatched",
  "NodeHeldForOperator",
] as const;

/**
 * True when a notification about `account` is for `user`: an active user of that account, in the
 * tenant the account is a member of (staff: in none). What a user is told follows membership.
 */
export async function concerns(db: Db, user: User, account: string): Promise<boolean> {
  if (user.disabled || user.address !== account) return false;
  const tenant = await memberTenantOf(db, account);
  return tenant === undefined ? user.tenantId === null : tenant === user.tenantId;
}

/** The notifications of `event` for `user`. */
export async function notificationsFor(db: Db, user: User, event: IndexedEvent): Promise<Notification[]> {
  const mine: Notification[] = [];
  for (const { accounts, notification } of await notificationsOf(db, event)) {
    if (accounts.includes(user.address) && (await concerns(db, user, user.address))) mine.push(notification);
  }
  return mine;
}

/** The notifications an indexed event makes, each with the accounts it is about. */
export async function notificationsOf(
  db: Db,
  event: IndexedEvent,
): Promise<{ accounts: string[]; notification: Notification }[]> {
  const a = event.args;
  const make = (type: NotificationType, data: Record<string, unknown>): Notification => ({
    id: `${event.id}:${type}`,
    type,
    at: new Date(event.timestamp * 1000).toISOString(),
    txHash: event.transactionHash,
    data,
  });
  const leaseId = Number(a.leaseId);
  switch (event.name) {
    case "LeaseCreated":
      return [
        {
          accounts: await leaseParties(db, Number(a.leaseId)),
          notification: make("lease.created", {
            leaseId,
            nodeId: Number(a.nodeId),
            offerId: Number(a.offerId),
            start: Number(a.start),
            end: Number(a.end),
            cost: credits(String(a.cost)),
          }),
        },
      ];
    case "LeaseProvisioned":
      return [
        {
          accounts: await leaseParties(db, Number(a.leaseId)),
          notification: make("lease.provisioned", { leaseId, nodeAddress: String(a.nodeAddress) }),
        },
      ];
    case "LeaseFailed":
      return [
        {
          accounts: await leaseParties(db, Number(a.leaseId)),
          notification: make("lease.failed", { leaseId, reason: a.reason }),
        },
      ];
    case "LeasePreempted":
      // The owner takes the node back: the buyer has until `endsAt` (the notice) to save its work.
      return [
        {
          accounts: await leaseParties(db, Number(a.leaseId)),
          notification: make("lease.preempted", { leaseId, endsAt: new Date(Number(a.endsAt) * 1000).toISOString() }),
        },
      ];
    case "LeaseEnded": {
      const accounts = await leaseParties(db, Number(a.leaseId));
      const data = {
        leaseId,
        reason: Number(a.reason),
        paid: credits(String(a.paid)),
        refund: credits(String(a.refund)),
      };
      const ended = [{ accounts, notification: make("lease.ended", data) }];
      return BigInt(String(a.refund)) > 0n
        ? [...ended, { accounts, notification: make("lease.refunded", data) }]
        : ended;
    }
    case "CreditsGranted":
      return [
        {
          accounts: [String(a.to).toLowerCase()],
          notification: make("credits.granted", { amount: credits(String(a.amount)), memo: a.memo }),
        },
      ];
    case "CreditRequestApproved":
    case "CreditRequestRejected": {
      const request = await findCreditRequest(db, Number(a.requestId));
      if (request === undefined) return [];
      return [
        {
          accounts: [request.requester],
          notification: make("credits.request.decided", {
            requestId: Number(a.requestId),
            approved: event.name === "CreditRequestApproved",
            amount: credits(request.amount),
          }),
        },
      ];
    }
    case "BidMatched":
    case "BidUnmatched": {
      const bid = await findBid(db, Number(a.roundId), Number(a.bidId));
      if (bid === undefined) return [];
      const type = event.name === "BidMatched" ? "bid.matched" : "bid.unmatched";
      return [
        {
          accounts: [bid.bidder],
          notification: make(type, {
            roundId: Number(a.roundId),
            bidId: Number(a.bidId),
            ...(event.name === "BidMatched" ? { leaseId } : {}),
            refund: credits(String(a.refund)),
          }),
        },
      ];
    }
    case "NodeHeldForOperator": {
      const node = await findNode(db, Number(a.nodeId));
      if (node === undefined) return [];
      return [
        {
          accounts: [node.provider],
          notification: make("node.held", { nodeId: Number(a.nodeId), reason: String(a.reason) }),
        },
      ];
    }
    default:
      return [];
  }
}
