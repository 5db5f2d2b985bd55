import { randomUUID } from "node:crypto";

import type { Response } from "express";

import type { Db } from "../db/database.js";
import type { MasterKey } from "../identity/secrets.js";
import { newToken, signWebhook } from "../identity/secrets.js";
import type { User, Users } from "../identity/users.js";
import { storedEventOf, type EventRow, type IndexedEvent } from "../indexer/indexer.js";
import { ApiError } from "../http/problem.js";
import { credits } from "../http/schemas.js";
import { repeat, type Repeating } from "../repeat.js";
import { refusedDestination } from "./destinations.js";

/** What a user is told about. */
export const NOTIFICATION_TYPES = [
  "lease.created",
  "lease.provisioned",
  "lease.failed",
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

/** The chain events that notify anyone: what a resumed stream replays. */
const NOTIFYING_EVENTS = [
  "LeaseCreated",
  "LeaseProvisioned",
  "LeaseFailed",
  "LeaseEnded",
  "CreditsGranted",
  "CreditRequestApproved",
  "CreditRequestRejected",
  "BidMatched",
  "BidUnmatched",
  "NodeHeldForOperator",
] as const;
/** A resumed stream replays at most this many events; a client further behind reads the audit trail. */
const MAX_REPLAYED_EVENTS = 1000;
/** How often open streams check that their credential still holds (another replica may revoke it). */
const STREAM_RECHECK_MS = 15_000;

/** One open event stream, and how to tell that the credential it was opened with still holds. */
interface Stream {
  res: Response;
  stillValid(): Promise<boolean>;
  /** Frames that arrived while the stream was replaying what it missed. */
  held: Notification[] | undefined;
}

export interface WebhookOptions {
  maxAttempts: number;
  allowInternalNetworks: boolean;
  /** The first retry's delay; each next one doubles it. */
  backoffMs: number;
  timeoutMs: number;
}

export interface Webhook {
  webhookId: string;
  url: string;
  types: NotificationType[];
  createdAt: number;
  active: boolean;
}

/**
 * Turns indexed events into notifications for the users they concern, and delivers them: live to
 * each user's Server-Sent Events streams, and to their webhooks, signed with HMAC-SHA256 and
 * retried with exponential backoff. Deliveries are stored, so retries outlive a restart.
 */
export class Notifier {
  readonly #db: Db;
  readonly #users: Users;
  readonly #master: MasterKey;
  readonly #options: WebhookOptions;
  readonly #streams = new Map<string, Set<Stream>>();
  #loop: Repeating | undefined;

  private constructor(db: Db, users: Users, master: MasterKey, options: WebhookOptions) {
    this.#db = db;
    this.#users = users;
    this.#master = master;
    this.#options = options;
  }

  static async open(db: Db, users: Users, master: MasterKey, options: WebhookOptions): Promise<Notifier> {
    return new Notifier(db, users, master, options);
  }

  /** Starts the webhook delivery loop; a failed pass is simply tried again. */
  start(intervalMs = 200): void {
    this.#loop = repeat(
      () => this.deliverDue(),
      intervalMs,
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    await this.#loop?.stop();
    for (const streams of this.#streams.values()) for (const stream of streams) stream.res.end();
    this.#streams.clear();
  }

  /**
   * Keeps `res` open as `user`'s event stream until the client goes away or `stillValid` (the
   * credential it was opened with) stops holding. With `lastEventId` (the SSE `Last-Event-ID` of
   * a reconnect) it first replays what the user missed since that notification.
   */
  async subscribe(
    user: User,
    res: Response,
    options: { stillValid(): Promise<boolean>; lastEventId?: string },
  ): Promise<void> {
    res.status(200).set({
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    res.write(": connected\n\n");
    let streams = this.#streams.get(user.userId);
    if (streams === undefined) {
      streams = new Set();
      this.#streams.set(user.userId, streams);
    }
    const after = /^(\d+):/.exec(options.lastEventId ?? "")?.[1];
    const stream: Stream = { res, stillValid: options.stillValid, held: after === undefined ? undefined : [] };
    streams.add(stream);
    const heartbeat = setInterval(() => {
      res.write(": keep-alive\n\n");
      void this.#endIfRevoked(stream);
    }, STREAM_RECHECK_MS);
    res.on("close", () => {
      clearInterval(heartbeat);
      streams.delete(stream);
    });
    if (after === undefined) return;
    let last = Number(after);
    for (const notification of await this.#missed(user, last)) {
      res.write(frameOf(notification));
      last = Math.max(last, eventIdOf(notification));
    }
    for (const notification of stream.held ?? []) if (eventIdOf(notification) > last) res.write(frameOf(notification));
    stream.held = undefined;
  }

  /**
   * Ends `userId`'s streams whose credential no longer holds (a revoked key, a closed session, a
   * removed user): called at once by whatever revoked it.
   */
  async recheckStreams(userId: string): Promise<void> {
    await Promise.all([...(this.#streams.get(userId) ?? [])].map((stream) => this.#endIfRevoked(stream)));
  }

  async #endIfRevoked(stream: Stream): Promise<void> {
    let valid = false;
    try {
      valid = await stream.stillValid();
    } catch {
      // Unknown is not valid: the client reconnects and authenticates again.
    }
    if (!valid) stream.res.end();
  }

  /** The notifications for `user` of events after `afterEventId`, in chain order. */
  async #missed(user: User, afterEventId: number): Promise<Notification[]> {
    const rows = await this.#db.all<EventRow>(
      `SELECT * FROM events WHERE id > $1 AND name IN (${NOTIFYING_EVENTS.map((_, i) => `$${i + 2}`).join(", ")})
       ORDER BY id LIMIT ${MAX_REPLAYED_EVENTS}`,
      [afterEventId, ...NOTIFYING_EVENTS],
    );
    const missed: Notification[] = [];
    for (const row of rows) {
      for (const { accounts, notification } of await this.#notificationsOf(storedEventOf(row))) {
        if (accounts.includes(user.address) && (await this.#concerns(user, user.address))) missed.push(notification);
      }
    }
    return missed;
  }

  /**
   * True when a notification about `account` is for `user`: an active user of that account, in the
   * tenant the account is a member of (staff: in none). What a user is told follows membership.
   */
  async #concerns(user: User, account: string): Promise<boolean> {
    if (user.disabled) return false;
    const member = await this.#db.get<{ tenant_id: number }>("SELECT tenant_id FROM members WHERE account = $1", [
      account,
    ]);
    return member === undefined ? user.tenantId === null : Number(member.tenant_id) === user.tenantId;
  }

  async addWebhook(userId: string, url: string, types: NotificationType[]): Promise<Webhook & { secret: string }> {
    const refused = await refusedDestination(url, this.#options.allowInternalNetworks);
    if (refused !== undefined) throw ApiError.badRequest("body.url", refused);
    const webhookId = randomUUID();
    const secret = `whsec_${newToken(24)}`;
    const createdAt = Math.floor(Date.now() / 1000);
    await this.#db.run(
      `INSERT INTO webhooks (webhook_id, user_id, url, sealed_secret, types, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [webhookId, userId, url, this.#master.seal("webhook", webhookId, secret), types.join(","), createdAt],
    );
    return { webhookId, url, types, createdAt, active: true, secret };
  }

  async webhooks(userId: string): Promise<Webhook[]> {
    const rows = await this.#db.all<{
      webhook_id: string;
      url: string;
      types: string;
      created_at: number;
      active: number;
    }>("SELECT webhook_id, url, types, created_at, active FROM webhooks WHERE user_id = $1 ORDER BY created_at", [
      userId,
    ]);
    return rows.map((row) => ({
      webhookId: row.webhook_id,
      url: row.url,
      types: row.types === "" ? [] : (row.types.split(",") as NotificationType[]),
      createdAt: Number(row.created_at),
      active: Number(row.active) === 1,
    }));
  }

  async removeWebhook(userId: string, webhookId: string): Promise<boolean> {
    return (
      (await this.#db.run("UPDATE webhooks SET active = 0 WHERE webhook_id = $1 AND user_id = $2 AND active = 1", [
        webhookId,
        userId,
      ])) > 0
    );
  }

  /** The delivery record of a webhook's notifications, newest first. */
  async deliveries(webhookId: string): Promise<{ notificationId: string; status: string; attempts: number }[]> {
    const rows = await this.#db.all<{ notification_id: string; status: string; attempts: number }>(
      "SELECT notification_id, status, attempts FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY notification_id DESC",
      [webhookId],
    );
    return rows.map((row) => ({
      notificationId: row.notification_id,
      status: row.status,
      attempts: Number(row.attempts),
    }));
  }

  /** Notifies the users newly indexed events concern. */
  async publish(events: readonly IndexedEvent[]): Promise<void> {
    for (const event of events) {
      for (const { accounts, notification } of await this.#notificationsOf(event)) {
        for (const account of accounts) {
          for (const user of await this.#users.byAddress(account)) {
            if (!(await this.#concerns(user, account))) continue;
            this.#push(user.userId, notification);
            await this.#queueWebhooks(user.userId, notification);
          }
        }
      }
    }
  }

  /** Sends every webhook delivery that is due; failures are retried later with backoff. */
  async deliverDue(): Promise<void> {
    const now = Date.now();
    const due = await this.#db.all<{
      webhook_id: string;
      notification_id: string;
      payload: string;
      attempts: number;
      url: string;
      sealed_secret: string;
    }>(
      `SELECT d.webhook_id, d.notification_id, d.payload, d.attempts, w.url, w.sealed_secret
       FROM webhook_deliveries d JOIN webhooks w ON w.webhook_id = d.webhook_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.active = 1
       ORDER BY d.next_attempt_at LIMIT 50`,
      [now],
    );
    await Promise.all(
      due.map(async (delivery) => {
        const secret = this.#master.open("webhook", delivery.webhook_id, delivery.sealed_secret);
        const timestamp = Math.floor(Date.now() / 1000);
        const attempts = Number(delivery.attempts) + 1;
        let failure = await refusedDestination(delivery.url, this.#options.allowInternalNetworks);
        try {
          if (failure !== undefined) throw new Error(failure);
          const response = await fetch(delivery.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "metalmarket-signature": signWebhook(secret, timestamp, delivery.payload),
              "metalmarket-delivery": delivery.notification_id,
            },
            body: delivery.payload,
            signal: AbortSignal.timeout(this.#options.timeoutMs),
            // A redirect could lead anywhere, past the destination check: it is a failure.
            redirect: "manual",
          });
          if (!response.ok) failure = `HTTP ${response.status}`;
          await response.body?.cancel();
        } catch (error) {
          failure = error instanceof Error ? error.message : String(error);
        }
        const status =
          failure === undefined ? "delivered" : attempts >= this.#options.maxAttempts ? "failed" : "pending";
        const next = now + this.#options.backoffMs * 2 ** (attempts - 1);
        await this.#db.run(
          `UPDATE webhook_deliveries SET attempts = $3, status = $4, last_error = $5, next_attempt_at = $6,
             delivered_at = $7 WHERE webhook_id = $1 AND notification_id = $2`,
          [
            delivery.webhook_id,
            delivery.notification_id,
            attempts,
            status,
            failure ?? null,
            next,
            failure === undefined ? Date.now() : null,
          ],
        );
      }),
    );
  }

  #push(userId: string, notification: Notification): void {
    for (const stream of this.#streams.get(userId) ?? []) {
      if (stream.held !== undefined) stream.held.push(notification);
      else stream.res.write(frameOf(notification));
    }
  }

  async #queueWebhooks(userId: string, notification: Notification): Promise<void> {
    for (const hook of await this.webhooks(userId)) {
      if (!hook.active || (hook.types.length > 0 && !hook.types.includes(notification.type))) continue;
      await this.#db.run(
        `INSERT INTO webhook_deliveries (webhook_id, notification_id, payload, attempts, next_attempt_at, status)
         VALUES ($1, $2, $3, 0, $4, 'pending') ON CONFLICT DO NOTHING`,
        [hook.webhookId, notification.id, JSON.stringify(notification), Date.now()],
      );
    }
  }

  async #notificationsOf(event: IndexedEvent): Promise<{ accounts: string[]; notification: Notification }[]> {
    const a = event.args;
    const make = (type: NotificationType, data: Record<string, unknown>): Notification => ({
      id: `${event.id}:${type}`,
      type,
      at: new Date(event.timestamp * 1000).toISOString(),
      txHash: event.transactionHash,
      data,
    });
    const leaseParties = async (leaseId: unknown) => {
      const row = await this.#db.get<{ buyer: string; provider: string }>(
        `SELECT l.buyer, n.provider FROM leases l JOIN nodes n ON n.node_id = l.node_id WHERE l.lease_id = $1`,
        [Number(leaseId)],
      );
      return row === undefined ? [] : [...new Set([row.buyer, row.provider])];
    };
    const leaseId = Number(a.leaseId);
    switch (event.name) {
      case "LeaseCreated":
        return [
          {
            accounts: await leaseParties(a.leaseId),
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
            accounts: await leaseParties(a.leaseId),
            notification: make("lease.provisioned", { leaseId, nodeAddress: String(a.nodeAddress) }),
          },
        ];
      case "LeaseFailed":
        return [
          {
            accounts: await leaseParties(a.leaseId),
            notification: make("lease.failed", { leaseId, reason: a.reason }),
          },
        ];
      case "LeaseEnded": {
        const accounts = await leaseParties(a.leaseId);
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
        const request = await this.#db.get<{ requester: string; amount: string }>(
          "SELECT requester, amount FROM credit_requests WHERE request_id = $1",
          [Number(a.requestId)],
        );
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
        const bid = await this.#db.get<{ bidder: string }>(
          "SELECT bidder FROM bids WHERE round_id = $1 AND bid_id = $2",
          [Number(a.roundId), Number(a.bidId)],
        );
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
        const node = await this.#db.get<{ provider: string }>("SELECT provider FROM nodes WHERE node_id = $1", [
          Number(a.nodeId),
        ]);
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
}

/** A notification as a Server-Sent Event; its `id:` is what a reconnect sends back as `Last-Event-ID`. */
function frameOf(notification: Notification): string {
  return `id: ${notification.id}\nevent: ${notification.type}\ndata: ${JSON.stringify(notification)}\n\n`;
}

/** The chain event a notification came from (its id reads `<event id>:<type>`). */
function eventIdOf(notification: Notification): number {
  return Number(notification.id.split(":")[0]);
}
