import { z } from "zod";

import { CREDIT_DECIMALS, formatCredits, parseCredits } from "../../sdk/index.js";
import { ROLES } from "../identity/users.js";

/** The widest amounts the contracts hold: balances and deposits are uint96, prices per hour uint64. */
const MAX_CREDITS_UNITS = 2n ** 96n - 1n;
const MAX_PRICE_UNITS = 2n ** 64n - 1n;
/** The widest ids, counts and times the contracts hold (uint32). */
export const UINT32_MAX = 2 ** 32 - 1;
/** On-chain times are uint32 unix seconds. */
export const MAX_CHAIN_TIME = UINT32_MAX;
/** The longest span a query may look back over: ten years. */
const MAX_SPAN_SECONDS = 10 * 365 * 86_400;

/** A positive number of credits as a decimal string, e.g. "12.5" (at most 6 decimals, at most `max` base units). */
function creditsUpTo(max: bigint) {
  return z
    .union([z.string(), z.number()])
    .transform((value) => String(value))
    .refine((value) => new RegExp(`^\\d{1,40}(\\.\\d{1,${CREDIT_DECIMALS}})?$`).test(value), {
      message: `a decimal number of credits with at most ${CREDIT_DECIMALS} decimals`,
    })
    .transform((value) => parseCredits(value))
    .refine((value) => value > 0n, { message: "must be more than 0" })
    .refine((value) => value <= max, { message: `must be at most ${formatCredits(max)}` });
}

/** An amount of credits (a grant, a deposit, a request). */
export const creditsInput = creditsUpTo(MAX_CREDITS_UNITS);
/** A price in credits per hour. */
export const priceInput = creditsUpTo(MAX_PRICE_UNITS);

export const credits = (value: bigint | string | null | undefined): string | null =>
  value === null || value === undefined ? null : formatCredits(BigInt(value));

/** ISO 8601 as the API takes it: a date, or a date and time with an optional zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A moment: ISO 8601 (`2024-10-27T10:00:00Z`) or unix seconds, up to 2106; becomes unix seconds. */
export const instant = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value);
  const seconds = /^\d{1,12}$/.test(text) ? Number(text) : ISO_8601.test(text) ? Date.parse(text) / 1000 : NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_CHAIN_TIME) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "an ISO 8601 time or unix seconds, before 2106" });
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
  const seconds = Number(match[1]) * unit;
  if (seconds > MAX_SPAN_SECONDS) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `at most ${MAX_SPAN_SECONDS / 86_400}d` });
    return z.NEVER;
  }
  return seconds;
});

/** An on-chain id in a body (uint32, from 1). */
export const chainIdInput = z.number().int().positive().max(UINT32_MAX);

/** A duration in minutes that fits the contracts' uint32 seconds. */
export const minutesInput = z
  .number()
  .int()
  .positive()
  .max(Math.floor(MAX_CHAIN_TIME / 60));

/** Path parameters holding one on-chain id (uint32, from 1). */
export function idParam<K extends string>(name: K) {
  const shape = {
    [name]: z.coerce.number().int().positive().max(UINT32_MAX),
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
