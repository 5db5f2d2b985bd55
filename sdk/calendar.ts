/** A half-open time range `[start, end)` in unix seconds. */
export interface Interval {
  start: number;
  end: number;
}

const WORD_BITS = 256;

/** The calendar word holding unit `unit`, for `Offers.calendarWords`. */
export function wordOf(unitIndex: number): number {
  return Math.floor(unitIndex / WORD_BITS);
}

/**
 * Turns raw calendar words (from `Offers.calendarWords(nodeId, fromWord, count)`) into the booked
 * intervals they hold, merged and in order. `calendarUnit` is the node's resolution in seconds.
 */
export function busyIntervals(words: readonly bigint[], fromWord: number, calendarUnit: number): Interval[] {
  const intervals: Interval[] = [];
  let openedAt: number | undefined;
  words.forEach((word, offset) => {
    const firstUnit = (fromWord + offset) * WORD_BITS;
    for (let bit = 0; bit < WORD_BITS; bit += 1) {
      const booked = ((word >> BigInt(bit)) & 1n) === 1n;
      const at = (firstUnit + bit) * calendarUnit;
      if (booked && openedAt === undefined) openedAt = at;
      if (!booked && openedAt !== undefined) {
        intervals.push({ start: openedAt, end: at });
        openedAt = undefined;
      }
    }
  });
  if (openedAt !== undefined) {
    intervals.push({ start: openedAt, end: (fromWord + words.length) * WORD_BITS * calendarUnit });
  }
  return intervals;
}

/** The calendar words `[fromWord, fromWord + count)` that cover `[start, end)` at `calendarUnit`. */
export function wordsCovering(start: number, end: number, calendarUnit: number): { fromWord: number; count: number } {
  const fromWord = wordOf(Math.floor(start / calendarUnit));
  const toWord = wordOf(Math.ceil(end / calendarUnit) - 1);
  return { fromWord, count: toWord - fromWord + 1 };
}
