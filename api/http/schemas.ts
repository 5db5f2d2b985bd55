import { z } from "zod";

import { CREDIT_DECIMALS, formatCredits, parseCredits } from "../../sdk/index.js";
import { ROLES } from "../identity/users.js";

/** A positive number of credits as a decimal string, e.g. "12.5" (at most 6 decimals). */
export const creditsInput = z
  .union([z.string(), z.number()])
  .transform((value) => String(value))
  .refine((value) => new RegExp(`^\\d+(\\.\\d{1,${CREDIT_DECIMALS}})?$`).test(value), {
    message: `a decimal number of credits with at most ${CREDIT_DECIMALS} decimals`,
  })
  .transform((value) => parseCredits(value))
  .refine((value) => value > 0n, { message: "must be more than 0" });

export const credits = (value: bigint | string | null | undefined): string | null =>
  value === null || value === undefined ? null : formatCredits(BigInt(value));

/** A moment: ISO 8601 (`2024-10-27T10:00:00Z`) or unix seconds; becomes unix seconds. */
export const instant = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value);
  const seconds = /^\d+$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "an ISO 8601 time or unix seconds" });
    return z.NEVER;
  }
  return Math.floor(seconds);
});

/** A span of time: seconds, or a number with a unit (`90s`, `30m`, `12h`, `7d`); becomes seconds. */
export const span = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const match = /^(\d+)([smhd]?)$/.exec(String(value));
  if (match === null) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "seconds, or a number with s, m, h or d" });
    return z.NEVER;
  }
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
});

/** Path parameters holding one on-chain id (uint32, from 1). */
export function idParam<K extends string>(name: K) {
  const shape = {
    [name]: z.coerce
      .number()
      .int()
      .positive()
      .max(2 ** 32 - 1),
  } as Record<K, z.ZodNumber>;
  return z.object(shape).strict();
}

export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "an account address (0x and 40 hex digits)")
  .transform((value) => value.toLowerCase());

export const roleSchema = z.enum(ROLES);

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(100),
};

export const isoTime = (seconds: number | null | undefined): string | null =>
  seconds === null || seconds === undefined ? null : new Date(Number(seconds) * 1000).toISOString();

export const userSchema = z.object({
  userId: z.string(),
  tenantId: z.number().nullable(),
  name: z.string(),
  email: z.string(),
  roles: z.array(roleSchema),
  address: z.string(),
  custodial: z.boolean(),
  disabled: z.boolean(),
});
