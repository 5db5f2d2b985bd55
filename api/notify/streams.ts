import type { Response } from "express";

import type { Db } from "../db/database.js";
import type { User, Users } from "../identity/users.js";
import type { IndexedEvent } from "../indexer/indexer.js";
import { eventsAfter } from "../readmodel/events.js";
import { NOTIFYING_EVENTS, concerns, notificationsFor, notificationsOf, type Notification } from "./notifications.js";

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

/**
 * Users' live notifications as Server-Sent Events. Each frame carries its notification's id, so a
 * reconnect with `Last-Event-ID` first replays what it missed from the events table; a stream
 * ends as soon as the credential it was opened with is revoked.
 */
export class NotificationStreams {
  readonly #db: Db;
  readonly #users: Users;
  readonly #streams = new Map<string, Set<Stream>>();

  constructor(db: Db, users: Users) {
    this.#db = db;
    this.#users = users;
  }

  close(): void {
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
      if (streams.size === 0 && this.#streams.get(user.userId) === streams) this.#streams.delete(user.userId);
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
  async recheck(userId: string): Promise<void> {
    await Promise.all([...(this.#streams.get(userId) ?? [])].map((stream) => this.#endIfRevoked(stream)));
  }

  /** Pushes newly indexed events to the streams of the users they concern. */
  async publish(events: readonly IndexedEvent[]): Promise<void> {
    // The indexer calls this for every batch: with nobody listening there is nothing to work out.
    if (this.#streams.size === 0) return;
    for (const event of events) {
      for (const { accounts, notification } of await notificationsOf(this.#db, event)) {
        for (const account of accounts) {
          for (const user of await this.#users.byAddress(account)) {
            if (this.#streams.has(user.userId) && (await concerns(this.#db, user, account))) {
              this.#push(user.userId, notification);
            }
          }
        }
      }
    }
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
    const missed: Notification[] = [];
    for (const event of await eventsAfter(this.#db, afterEventId, NOTIFYING_EVENTS, MAX_REPLAYED_EVENTS)) {
      missed.push(...(await notificationsFor(this.#db, user, event)));
    }
    return missed;
  }

  #push(userId: string, notification: Notification): void {
    for (const stream of this.#streams.get(userId) ?? []) {
      if (stream.held !== undefined) stream.held.push(notification);
      else stream.res.write(frameOf(notification));
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
