import type { Db } from "../db/database.js";
import type { IndexedEvent } from "../indexer/indexer.js";
import { eventsAfter, newestEventId } from "../readmodel/events.js";
import { repeat, type Repeating } from "../repeat.js";
import { NOTIFYING_EVENTS } from "./notifications.js";

/** Events read from the table per look; a follower far behind catches up over several. */
const TAIL_BATCH = 500;

/**
 * Newly indexed events on their way to this replica's notification streams, in chain order, one
 * batch after another: straight from its own indexer while this replica leads (at once, as they are
 * committed), tailed from the events table, as webhooks are, while another replica indexes.
 */
export class EventFeed {
  readonly #db: Db;
  readonly #publish: (events: readonly IndexedEvent[]) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  /** The newest event handed on; the tail goes on from there. */
  #cursor: number | undefined;
  #publishing: Promise<void> = Promise.resolve();
  #tail: Repeating | undefined;

  constructor(db: Db, publish: (events: readonly IndexedEvent[]) => Promise<void>, onError: (error: unknown) => void) {
    this.#db = db;
    this.#publish = publish;
    this.#onError = onError;
  }

  /** Hands on a batch this replica's indexer committed. */
  push(events: readonly IndexedEvent[]): void {
    const last = events.at(-1);
    if (last === undefined) return;
    this.#cursor = Math.max(this.#cursor ?? 0, last.id);
    this.#publishing = this.#publishing.then(() => this.#publish(events)).catch(this.#onError);
  }

  /** Starts tailing the events table another replica's indexer writes. */
  startTail(intervalMs: number): void {
    this.#tail = repeat(() => this.#readNew(), intervalMs, this.#onError);
  }

  /**
   * Stops tailing once the look under way is done, after one last look: this replica is about to
   * index itself, and what the previous leader wrote up to then must not fall between the two.
   */
  async stopTail(): Promise<void> {
    await this.#tail?.stop();
    this.#tail = undefined;
    await this.#readNew();
  }

  /** Waits for the batches under way. */
  async close(): Promise<void> {
    await this.#publishing;
  }

  async #readNew(): Promise<void> {
    // A replica that starts as a follower hands on what is indexed from then on, not the history:
    // a client that missed something asks for it with Last-Event-ID.
    this.#cursor ??= await newestEventId(this.#db);
    for (;;) {
      const events = await eventsAfter(this.#db, this.#cursor, NOTIFYING_EVENTS, TAIL_BATCH);
      this.push(events);
      await this.#publishing;
      if (events.length < TAIL_BATCH) return;
    }
  }
}
