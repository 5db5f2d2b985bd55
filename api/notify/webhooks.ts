import { randomUUID } from "node:crypto";

import type { Db } from "../db/database.js";
import { invalidInput } from "../errors.js";
import type { MasterKey } from "../identity/secrets.js";
import { newToken, signWebhook } from "../identity/secrets.js";
import type { Users } from "../identity/users.js";
import { eventsAfter, newestEventId } from "../readmodel/events.js";
import { repeat, type Repeating } from "../repeat.js";
import { refusedDestination } from "./destinations.js";
import { NOTIFYING_EVENTS, notificationsFor, type NotificationType } from "./notifications.js";

/** Events read per webhook and pass: a destination far behind catches up over a few passes. */
const EVENTS_PER_PASS = 200;
/** Deliveries sent per pass. */
const DELIVERIES_PER_PASS = 50;

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

/** What became of one notification for one webhook: `dead` once its attempts ran out. */
export type DeliveryStatus = "pending" | "delivered" | "dead";

export interface Delivery {
  notificationId: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
}

interface WebhookRow {
  webhook_id: string;
  user_id: string;
  url: string;
  types: string;
  created_at: number;
  active: number;
  after_event: number | null;
}

/**
 * Users' webhooks, delivered from the events table as an outbox: each webhook keeps a cursor
 * (the last event it was given), advanced in the same transaction that queues its deliveries, so
 * whatever the indexer committed reaches every destination at least once, across crashes and
 * restarts. Deliveries are signed with HMAC-SHA256, retried with exponential backoff, and after
 * their last attempt kept as dead letters that the owner can see and send again.
 */
export class Webhooks {
  readonly #db: Db;
  readonly #users: Users;
  readonly #master: MasterKey;
  readonly #options: WebhookOptions;
  #loop: Repeating | undefined;

  constructor(db: Db, users: Users, master: MasterKey, options: WebhookOptions) {
    this.#db = db;
    this.#users = users;
    this.#master = master;
    this.#options = options;
  }

  /** Starts the delivery loop: queue what the indexer added, send what is due. A failed pass is tried again. */
  start(intervalMs = 200): void {
    this.#loop = repeat(
      async () => {
        await this.enqueue();
        await this.deliverDue();
      },
      intervalMs,
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    await this.#loop?.stop();
  }

  async add(userId: string, url: string, types: NotificationType[]): Promise<Webhook & { secret: string }> {
    const refused = await refusedDestination(url, this.#options.allowInternalNetworks);
    if (refused !== undefined) throw invalidInput("body.url", refused);
    const webhookId = randomUUID();
    const secret = `whsec_${newToken(24)}`;
    const createdAt = Math.floor(Date.now() / 1000);
    // A new webhook hears what happens from now on, not the market's history.
    const head = await newestEventId(this.#db);
    await this.#db.run(
      `INSERT INTO webhooks (webhook_id, user_id, url, sealed_secret, types, created_at, after_event)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [webhookId, userId, url, this.#master.seal("webhook", webhookId, secret), types.join(","), createdAt, head],
    );
    return { webhookId, url, types, createdAt, active: true, secret };
  }

  async list(userId: string): Promise<Webhook[]> {
    const rows = await this.#db.all<WebhookRow>("SELECT * FROM webhooks WHERE user_id = $1 ORDER BY created_at", [
      userId,
    ]);
    return rows.map(webhookOf);
  }

  async remove(userId: string, webhookId: string): Promise<boolean> {
    return (
      (await this.#db.run("UPDATE webhooks SET active = 0 WHERE webhook_id = $1 AND user_id = $2 AND active = 1", [
        webhookId,
        userId,
      ])) > 0
    );
  }

  /** The delivery record of a webhook's notifications, newest first; `status` narrows it (`dead`: the dead letters). */
  async deliveries(webhookId: string, status?: DeliveryStatus): Promise<Delivery[]> {
    const rows = await this.#db.all<{ notification_id: string; status: string; attempts: number; last_error: string }>(
      `SELECT notification_id, status, attempts, last_error FROM webhook_deliveries
       WHERE webhook_id = $1 AND ($2 = '' OR status = $2) ORDER BY notification_id DESC`,
      [webhookId, status ?? ""],
    );
    return rows.map((row) => ({
      notificationId: row.notification_id,
      status: row.status as DeliveryStatus,
      attempts: Number(row.attempts),
      lastError: row.last_error,
    }));
  }

  /** Sends a dead letter again, with a fresh set of attempts; false when there is no such dead letter. */
  async redeliver(webhookId: string, notificationId: string): Promise<boolean> {
    return (
      (await this.#db.run(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3
         WHERE webhook_id = $1 AND notification_id = $2 AND status = 'dead'`,
        [webhookId, notificationId, Date.now()],
      )) > 0
    );
  }

  /** Queues, for every active webhook, the notifications of the events after its cursor, and moves the cursor. */
  async enqueue(): Promise<void> {
    const hooks = await this.#db.all<WebhookRow>("SELECT * FROM webhooks WHERE active = 1");
    for (const hook of hooks) {
      const events = await eventsAfter(this.#db, Number(hook.after_event ?? 0), NOTIFYING_EVENTS, EVENTS_PER_PASS);
      const last = events.at(-1);
      if (last === undefined) continue;
      // Looked up only when there is something to deliver: most passes find nothing new.
      const user = await this.#users.byId(hook.user_id);
      const types = webhookOf(hook).types;
      await this.#db.transaction(async (tx) => {
        for (const event of events) {
          const notifications = user === undefined ? [] : await notificationsFor(tx, user, event);
          for (const notification of notifications) {
            if (types.length > 0 && !types.includes(notification.type)) continue;
            await tx.run(
              `INSERT INTO webhook_deliveries (webhook_id, notification_id, payload, attempts, next_attempt_at, status)
               VALUES ($1, $2, $3, 0, $4, 'pending') ON CONFLICT DO NOTHING`,
              [hook.webhook_id, notification.id, JSON.stringify(notification), Date.now()],
            );
          }
        }
        await tx.run("UPDATE webhooks SET after_event = $2 WHERE webhook_id = $1", [hook.webhook_id, Number(last.id)]);
      });
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
       ORDER BY d.next_attempt_at LIMIT ${DELIVERIES_PER_PASS}`,
      [now],
    );
    await Promise.all(
      due.map(async (delivery) => {
        const attempts = Number(delivery.attempts) + 1;
        const failure = await this.#send(delivery);
        const status: DeliveryStatus =
          failure === undefined ? "delivered" : attempts >= this.#options.maxAttempts ? "dead" : "pending";
        await this.#db.run(
          `UPDATE webhook_deliveries SET attempts = $3, status = $4, last_error = $5, next_attempt_at = $6,
             delivered_at = $7 WHERE webhook_id = $1 AND notification_id = $2`,
          [
            delivery.webhook_id,
            delivery.notification_id,
            attempts,
            status,
            failure ?? null,
            now + this.#options.backoffMs * 2 ** (attempts - 1),
            failure === undefined ? Date.now() : null,
          ],
        );
      }),
    );
  }

  /** POSTs one delivery; answers why it failed, or `undefined` when the destination took it. */
  async #send(delivery: {
    webhook_id: string;
    notification_id: string;
    payload: string;
    url: string;
    sealed_secret: string;
  }): Promise<string | undefined> {
    const refused = await refusedDestination(delivery.url, this.#options.allowInternalNetworks);
    if (refused !== undefined) return refused;
    const secret = this.#master.open("webhook", delivery.webhook_id, delivery.sealed_secret);
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "metalmarket-signature": signWebhook(secret, Math.floor(Date.now() / 1000), delivery.payload),
          "metalmarket-delivery": delivery.notification_id,
        },
        body: delivery.payload,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
        // A redirect could lead anywhere, past the destination check: it is a failure.
        redirect: "manual",
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}

function webhookOf(row: WebhookRow): Webhook {
  return {
    webhookId: row.webhook_id,
    url: row.url,
    types: row.types === "" ? [] : (row.types.split(",") as NotificationType[]),
    createdAt: Number(row.created_at),
    active: Number(row.active) === 1,
  };
}
