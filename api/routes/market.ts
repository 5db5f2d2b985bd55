import { z } from "zod";

import { credits, isoTime, span } from "../http/schemas.js";
import { marketCounts, salesSince, type SaleRow } from "../readmodel/market.js";
import { PRICE_MODELS, modelName } from "../readmodel/offers.js";
import { route } from "./define.js";

const DAY = 86_400;

export const statsSchema = z.object({
  sales: z.number(),
  average: z.string().nullable(),
  median: z.string().nullable(),
  last: z.string().nullable(),
  min: z.string().nullable(),
  max: z.string().nullable(),
});

/** Average, median, last, min and max of prices (base units), in sale order. */
export function priceStats(prices: readonly bigint[]): z.infer<typeof statsSchema> {
  if (prices.length === 0) return { sales: 0, average: null, median: null, last: null, min: null, max: null };
  const sorted = [...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? 0n) : ((sorted[middle - 1] ?? 0n) + (sorted[middle] ?? 0n)) / 2n;
  const total = prices.reduce((sum, price) => sum + price, 0n);
  return {
    sales: prices.length,
    average: credits(total / BigInt(prices.length)),
    median: credits(median),
    last: credits(prices.at(-1)),
    min: credits(sorted[0]),
    max: credits(sorted.at(-1)),
  };
}

export const marketRoutes = [
  route({
    method: "get",
    path: "/market/prices",
    tag: "market",
    summary: "Clearing prices per hour for a configuration over a window: average, median, last",
    description:
      "Sales (leases made, by booking or auction) on nodes with at least `cpu` cores and `ram` GiB in the " +
      "last `window` (seconds, or `12h`, `7d`; 30 days by default). Prices are credits per hour.",
    access: "user",
    query: z
      .object({
        cpu: z.coerce.number().int().min(0).default(0),
        ram: z.coerce.number().min(0).default(0),
        window: span.default(30 * DAY),
      })
      .strict(),
    response: z.object({
      cpu: z.number(),
      ram: z.number(),
      from: z.string(),
      to: z.string(),
      overall: statsSchema,
      byModel: z.object({ fixed: statsSchema, dynamic: statsSchema, auction: statsSchema }),
    }),
    async handler({ query, services }) {
      const now = await services.chainTime();
      const from = now - query.window;
      const rows = await salesSince(services.db, from, { cores: query.cpu, memoryGiB: query.ram });
      const pricesOf = (model?: number) =>
        rows
          .filter((row) => model === undefined || Number(row.model) === model)
          .map((row) => BigInt(row.price_per_hour));
      return {
        cpu: query.cpu,
        ram: query.ram,
        from: isoTime(from) ?? "",
        to: isoTime(now) ?? "",
        overall: priceStats(pricesOf()),
        byModel: {
          fixed: priceStats(pricesOf(PRICE_MODELS.indexOf("fixed"))),
          dynamic: priceStats(pricesOf(PRICE_MODELS.indexOf("dynamic"))),
          auction: priceStats(pricesOf(PRICE_MODELS.indexOf("auction"))),
        },
      };
    },
  }),

  route({
    method: "get",
    path: "/market/overview",
    tag: "market",
    summary: "The market at a glance: counts, volume, and clearing prices day by day",
    access: ["admin", "auditor"],
    query: z.object({ window: span.default(30 * DAY) }).strict(),
    response: z.object({
      tenants: z.number(),
      nodes: z.number(),
      openOffers: z.number(),
      activeLeases: z.number(),
      volume: z.string().describe("credits of leases made in the window"),
      days: z.array(
        z.object({
          day: z.string(),
          sales: z.number(),
          volume: z.string(),
          averagePricePerHour: z.string().nullable(),
          byModel: z.record(z.string(), z.number()),
        }),
      ),
    }),
    async handler({ query, services }) {
      const now = await services.chainTime();
      const rows = await salesSince(services.db, now - query.window);
      const days = new Map<number, SaleRow[]>();
      for (const row of rows) {
        const day = Math.floor(Number(row.created_at) / DAY) * DAY;
        days.set(day, [...(days.get(day) ?? []), row]);
      }
      const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
      return {
        ...(await marketCounts(services.db)),
        volume: credits(sum(rows.map((row) => BigInt(row.cost)))) ?? "0",
        days: [...days].map(([day, sales]) => {
          const priced = sales.filter((row) => row.price_per_hour !== null).map((row) => BigInt(row.price_per_hour));
          const byModel: Record<string, number> = {};
          for (const row of sales)
            byModel[modelName(Number(row.model))] = (byModel[modelName(Number(row.model))] ?? 0) + 1;
          return {
            day: isoTime(day)?.slice(0, 10) ?? "",
            sales: sales.length,
            volume: credits(sum(sales.map((row) => BigInt(row.cost)))) ?? "0",
            averagePricePerHour: priced.length === 0 ? null : credits(sum(priced) / BigInt(priced.length)),
            byModel,
          };
        }),
      };
    },
  }),
];
