import { describe, expect, it } from "vitest";

import {
  EndReason,
  Unfit,
  busyIntervals,
  formatCredits,
  leaseCost,
  nameOf,
  parseCredits,
  wordOf,
  wordsCovering,
} from "../../sdk/index.js";

describe("Credit units", () => {
  it("parse and format six-decimal credits", () => {
    expect(parseCredits("1")).toBe(1_000_000n);
    expect(parseCredits("0.5")).toBe(500_000n);
    expect(formatCredits(12_500_000n)).toBe("12.5");
    expect(formatCredits(3_000_000n)).toBe("3");
    expect(formatCredits(1n)).toBe("0.000001");
    expect(formatCredits(0n)).toBe("0");
    expect(formatCredits(-1_500_000n)).toBe("-1.5");
    expect(formatCredits(123_456_789_012_345_678n)).toBe("123456789012.345678");
    expect(() => parseCredits("0.0000001")).toThrow();
  });

  it("price a lease as the contracts do, rounding down", () => {
    expect(leaseCost(parseCredits("3.6"), 1)).toBe(1000n);
    expect(leaseCost(7n, 1800)).toBe(3n);
  });
});

describe("Calendar decoding", () => {
  it("turns calendar words into merged booked intervals", () => {
    const unit = 60;
    // Word 10: units 2560+4 .. 2560+7 booked; word 11: units 2816+0 .. +2 and the last unit booked.
    const word10 = (0b1111n << 4n) | (1n << 255n);
    const word11 = 0b111n;
    expect(busyIntervals([word10, word11], 10, unit)).toEqual([
      { start: (2560 + 4) * unit, end: (2560 + 8) * unit },
      { start: (2560 + 255) * unit, end: (2816 + 3) * unit },
    ]);
    expect(busyIntervals([0n, 0n], 3, unit)).toEqual([]);
    expect(busyIntervals([(1n << 256n) - 1n], 0, unit)).toEqual([{ start: 0, end: 256 * unit }]);
  });

  it("finds the words that cover a time range", () => {
    expect(wordOf(255)).toBe(0);
    expect(wordOf(256)).toBe(1);
    expect(wordsCovering(0, 256 * 60, 60)).toEqual({ fromWord: 0, count: 1 });
    expect(wordsCovering(255 * 60, 257 * 60, 60)).toEqual({ fromWord: 0, count: 2 });
  });
});

describe("Enum names", () => {
  it("names an enum value read from the chain", () => {
    expect(nameOf(EndReason, 2n)).toBe("Released");
    expect(nameOf(Unfit, 10)).toBe("Booked");
    expect(nameOf(EndReason, 99n)).toBeUndefined();
  });
});
