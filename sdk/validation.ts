import { isAddress } from "ethers";
import { z } from "zod";

/** An Ethereum address, checksummed or not. */
export const addressSchema = z.string().refine((value) => isAddress(value), { message: "not an address" });

/** Share of an amount in basis points: 0 to 10,000. */
export const basisPointsSchema = z.number().int().min(0).max(10_000);

/** Parses `value` with `schema`, or throws one error naming every field at fault, after `what`. */
export function parseOrThrow<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`${what}: ${problems.join("; ")}`);
}
