import type { Response } from "express";
import { ZodError } from "zod";

import { BidExceedsDepositError, MarketRevertError, Unfit, decodeRevert, nameOf } from "../../sdk/index.js";
import { DomainError, type DomainErrorKind, type FieldError } from "../errors.js";
import { argsToJson } from "../indexer/projection.js";

export type { FieldError };

/** The HTTP status of each kind of domain error: the one place the two meet. */
const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  "not-found": 404,
  conflict: 409,
  unavailable: 503,
};

/** An RFC 9457 problem: what the API answers for every error, as `application/problem+json`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** The first field at fault, when one is. */
  field?: string;
  errors?: FieldError[];
  /** The contract's custom error, when the chain refused the transaction. */
  revert?: { name: string; args: Record<string, unknown> };
}

const TYPE_BASE = "https://metalmarket.dev/problems/";

/**
 * An error of the HTTP layer itself (a body it cannot read, an idempotency key reused), with its
 * status; the use cases throw `DomainError`s. Anything else is a 500 that names nothing internal.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
  ) {
    super(detail ?? title);
    this.name = "ApiError";
  }
}

/** The HTTP status and problem for any error a handler threw. */
export function problemOf(error: unknown): Problem {
  if (error instanceof ApiError || error instanceof DomainError) {
    return {
      type: TYPE_BASE + error.slug,
      title: error.title,
      status: error instanceof ApiError ? error.status : STATUS_OF[error.kind],
      ...(error.detail === undefined ? {} : { detail: error.detail }),
      ...(error.errors === undefined ? {} : { field: error.errors[0]?.field, errors: error.errors }),
    };
  }
  if (error instanceof ZodError) {
    const errors = error.issues.map((issue) => ({
      field: issue.path.join(".") || "body",
      message: issue.message,
    }));
    return {
      type: `${TYPE_BASE}invalid-request`,
      title: "The request is not valid",
      status: 400,
      detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
      field: errors[0]?.field,
      errors,
    };
  }
  if (error instanceof BidExceedsDepositError) {
    return {
      type: `${TYPE_BASE}invalid-request`,
      title: "The request is not valid",
      status: 400,
      detail: error.message,
      field: "body.deposit",
      errors: [{ field: "body.deposit", message: error.message }],
    };
  }
  const revert = error instanceof MarketRevertError ? error.revert : decodeRevert(error);
  if (revert !== undefined) {
    return {
      type: `${TYPE_BASE}refused-by-market`,
      title: "The market refused the transaction",
      status: 409,
      detail: `${revert.name}: ${describeRevert(revert.name, revert.args)}`,
      revert: { name: revert.name, args: jsonSafe(revert.args) },
    };
  }
  return { type: `${TYPE_BASE}internal`, title: "Internal error", status: 500 };
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type("application/problem+json").send(JSON.stringify(problem));
}

const REVERT_HINTS: Record<string, string> = {
  InsufficientCredits: "not enough available credits in the market account",
  PriceAboveLimit: "the posted price is above the most you would pay",
  NotActiveMember: "the account is not an active member with the needed role",
  OutsideRevealWindow: "not inside the round's reveal window",
  UnauthorizedCaller: "the account may not do this",
  InvalidLeaseStatus: "the lease is not in a state that allows this",
  InvalidOfferTerms: "the offer's terms are not valid (see field)",
};

/** Why a booking does not fit its offer (`Offers.Unfit`), in the users' words. */
const UNFIT_REASONS: Record<keyof typeof Unfit, string> = {
  None: "it fits",
  Closed: "the offer is closed",
  WrongModel: "the offer does not take this kind of booking",
  Started: "the slice has begun already",
  OutsideWindow: "it is outside the offer's window",
  Misaligned: "it does not start and end on the offer's slice boundaries",
  SliceCount: "it has too few or too many slices for the offer",
  OutsideHours: "it is outside the offer's hours of the day",
  NodeUnavailable: "the node is not available (maintenance, or held by its agent)",
  SellerInactive: "the seller may not sell now (its tenant is suspended, or it left its tenant)",
  Booked: "the time is booked already",
  Held: "an auction round not yet cleared offers this time, and the buyer belongs to the seller's tenant",
};

function describeRevert(name: string, args: Record<string, unknown>): string {
  if (name === "OfferUnfit") {
    const reason = nameOf(Unfit, BigInt(String(args.reason ?? 0)));
    return `the booking does not fit the offer: ${reason === undefined ? "for a reason not known here" : `${String(reason)} (${UNFIT_REASONS[reason]})`}`;
  }
  return REVERT_HINTS[name] ?? "see the contract's custom error";
}

function jsonSafe(args: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(argsToJson(args)) as Record<string, unknown>;
}
