import fc from "fast-check";
import { network } from "hardhat";
import { beforeAll, describe, expect, it } from "vitest";

import type { ProtocolMath } from "../../typechain-types/index.js";
import { EndReason } from "../../sdk/index.js";
import {
  cancellationFee,
  deliveredSoFar,
  divide,
  dynamicPrice,
  leaseCost,
  share,
  withinDailyWindow,
} from "../../sdk/protocol.js";

/** Random cases per rule: enough to meet every branch, few enough for a quick test. */
const RUNS = { numRuns: 150 };
const UINT64 = (1n << 64n) - 1n;
const UINT96 = (1n << 96n) - 1n;
const UINT32 = 2 ** 32 - 1;

const time = fc.integer({ min: 0, max: UINT32 });
const reasons = fc.constantFrom(...Object.values(EndReason).filter((value) => value !== EndReason.None));

describe("the SDK's protocol math against the Solidity libraries", () => {
  let math: ProtocolMath;

  beforeAll(async () => {
    const connection = await network.create();
    math = (await connection.ethers.deployContract("ProtocolMath")) as unknown as ProtocolMath;
  });

  it("prices time as Pricing.cost", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: UINT64 }), time, async (price, seconds) => {
        expect(leaseCost(price, seconds)).toBe(await math.cost(price, seconds));
      }),
      RUNS,
    );
  });

  it("moves dynamic prices as Pricing.dynamicPrice", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: UINT64 }),
        fc.bigInt({ min: 0n, max: 65_535n }),
        fc.bigInt({ min: 0n, max: 1000n }),
        fc.bigInt({ min: 0n, max: 1000n }),
        async (base, surge, booked, capacity) => {
          expect(dynamicPrice(base, surge, booked, capacity)).toBe(
            await math.dynamicPrice(base, surge, booked, capacity),
          );
        },
      ),
      RUNS,
    );
  });

  it("shares as Pricing.share", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: UINT96 }),
        fc.bigInt({ min: 0n, max: BigInt(UINT32) }),
        fc.bigInt({ min: 0n, max: BigInt(UINT32) }),
        async (total, part, whole) => {
          expect(share(total, part, whole)).toBe(await math.share(total, part, whole));
        },
      ),
      RUNS,
    );
  });

  it("reads daily hours as DailyWindow.contains", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 23 }),
        time,
        fc.integer({ min: 0, max: 2 * 86_400 }),
        async (from, to, start, length) => {
          expect(withinDailyWindow(from, to, start, start + length)).toBe(
            await math.contains(from, to, start, start + length),
          );
        },
      ),
      RUNS,
    );
  });

  it("settles as Settlement.divide, for every way a lease ends", async () => {
    const lease = fc
      .record({
        start: fc.integer({ min: 1, max: Math.floor(UINT32 / 2) }),
        slices: fc.integer({ min: 1, max: 48 }),
        sliceSeconds: fc.constantFrom(60, 900, 3600),
        cost: fc.bigInt({ min: 0n, max: UINT96 }),
        provisionedOffset: fc.option(fc.integer({ min: -7200, max: 200_000 }), { nil: undefined }),
        atOffset: fc.integer({ min: -7200, max: 200_000 }),
      })
      .map((l) => ({
        start: BigInt(l.start),
        end: BigInt(l.start + l.slices * l.sliceSeconds),
        sliceSeconds: BigInt(l.sliceSeconds),
        cost: l.cost,
        provisionedAt: l.provisionedOffset === undefined ? 0n : BigInt(Math.max(1, l.start + l.provisionedOffset)),
        at: BigInt(Math.max(0, l.start + l.atOffset)),
      }));
    await fc.assert(
      fc.asyncProperty(lease, reasons, async ({ at, ...terms }, reason) => {
        const [paid, stop] = await math.divide(
          terms.start,
          terms.end,
          terms.sliceSeconds,
          terms.cost,
          terms.provisionedAt,
          reason,
          at,
        );
        expect(divide(terms, reason, at)).toEqual({ paid, stop });
        // What a buyer is shown as accrued by `at` is what the seller would be paid were the lease stopped then.
        if (at < terms.end) {
          const [stoppedPaid] = await math.divide(
            terms.start,
            terms.end,
            terms.sliceSeconds,
            terms.cost,
            terms.provisionedAt,
            EndReason.Preempted,
            at,
          );
          expect(deliveredSoFar(terms, at).accrued).toBe(stoppedPaid);
        }
      }),
      RUNS,
    );
  });

  it("charges a cancellation as Settlement.cancellationFee", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: UINT96 }), fc.bigInt({ min: 0n, max: 10_000n }), async (cost, bps) => {
        expect(cancellationFee(cost, bps)).toBe(await math.cancellationFee(cost, bps));
      }),
      RUNS,
    );
  });
});
