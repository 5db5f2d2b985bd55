/** How much answer text is kept, in characters (about as many bytes: answers are mostly ASCII). */
const DEFAULT_BUDGET = 32 * 1024 * 1024;

/**
 * Answers worked out from the read model alone, kept as JSON text until the read model changes
 * (`generation`, which the indexer moves on with every batch it stores or rolls back): a repeated
 * query is then a look-up, not queries and serialisation again. The least recently asked go first
 * once `budget` characters are held. Callers asking together for a missing answer share its work.
 */
export class ReadModelAnswers {
  readonly #generation: () => number;
  readonly #budget: number;
  readonly #answers = new Map<string, { text: Promise<string>; size: number }>();
  #held = 0;
  #of = -1;

  constructor(generation: () => number, budget = DEFAULT_BUDGET) {
    this.#generation = generation;
    this.#budget = budget;
  }

  /** The answer under `key` for the read model as it is now, worked out by `compute` when not held. */
  get(key: string, compute: () => Promise<string>): Promise<string> {
    const generation = this.#generation();
    if (generation !== this.#of) {
      this.#answers.clear();
      this.#held = 0;
      this.#of = generation;
    }
    const held = this.#answers.get(key);
    if (held !== undefined) {
      // Moved to the back: the map's order is the order of use.
      this.#answers.delete(key);
      this.#answers.set(key, held);
      return held.text;
    }
    const entry = { text: compute(), size: 0 };
    this.#answers.set(key, entry);
    entry.text.then(
      (text) => this.#account(key, entry, key.length + text.length),
      () => this.#drop(key, entry),
    );
    return entry.text;
  }

  #account(key: string, entry: { size: number }, size: number): void {
    if (this.#answers.get(key) !== entry) return;
    entry.size = size;
    this.#held += size;
    for (const [oldest, held] of this.#answers) {
      if (this.#held <= this.#budget) break;
      this.#drop(oldest, held);
    }
  }

  #drop(key: string, entry: { size: number }): void {
    if (this.#answers.get(key) !== entry) return;
    this.#answers.delete(key);
    this.#held -= entry.size;
  }
}
