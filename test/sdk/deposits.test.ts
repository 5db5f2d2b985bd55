import { describe, expect, it } from "vitest";

import { depositBucket, paddedDeposit, parseCredits } from "../../sdk/index.js";

const credits = (amount: string) => parseCredits(amount);

describe("padded deposits", () => {
  it("pads a cost to the 1-2-5 bucket that covers it", () => {
    const cases: [string, string][] = [
      ["0.000001", "1"],
      ["1", "1"],
      ["1.000001", "2"],
      ["2.5", "5"],
      ["5", "5"],
      ["7", "10"],
      ["12", "20"],
      ["21", "50"],
      ["333", "500"],
      ["999999", "1000000"],
    ];
    for (const [cost, bucket] of cases) expect(depositBucket(credits(cost)), cost).toBe(credits(bucket));
  });

  it("gives every price in a bucket the same deposit, so the deposit does not tell them apart", () => {
    const deposits = new Set(["10.01", "13", "17.5", "20"].map((cost) => paddedDeposit(credits(cost))));
    expect([...deposits]).toEqual([credits("20")]);
  });

  it("deposits all the buyer can spend when that covers the bid but not its bucket", () => {
    expect(paddedDeposit(credits("12"), credits("15"))).toBe(credits("15"));
    expect(paddedDeposit(credits("12"), credits("80"))).toBe(credits("20"));
    // Short of the cost itself, the bucket stands and the commit is refused for want of credits.
    expect(paddedDeposit(credits("12"), credits("5"))).toBe(credits("20"));
  });

  it("refuses a cost that is not positive", () => {
    expect(() => depositBucket(0n)).toThrow(RangeError);
  });
});
