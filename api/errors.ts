/**
 * What the gateway's use cases throw when a request cannot be done: domain errors, in the users'
 * words, naming the input at fault. They know nothing of HTTP: only `http/problem.ts` turns them
 * into problems with a status.
 */

/** One thing wrong with a request: where (`body.duration`, `query.cpu`) and what. */
export interface FieldError {
  field: string;
  message: string;
}

/** What kind of refusal a domain error is; `http/` maps each kind to a status. */
export type DomainErrorKind = "invalid" | "unauthenticated" | "forbidden" | "not-found" | "conflict" | "unavailable";

/** A request the market refuses, and why. */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** A short stable name for the problem's type, e.g. `invalid-request`. */
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
  ) {
    super(detail ?? title);
    this.name = "DomainError";
  }
}

/** An input that is not valid: `field` names it. */
export function invalidInput(field: string, message: string): DomainError {
  return new DomainError("invalid", "invalid-request", "The request is not valid", `${field}: ${message}`, [
    { field, message },
  ]);
}

/** The caller is not signed in, or their credential does not hold. */
export function unauthenticated(detail: string, errors?: FieldError[]): DomainError {
  return new DomainError("unauthenticated", "unauthenticated", "Unauthenticated", detail, errors);
}

/** The caller may not do this. */
export function forbidden(detail: string): DomainError {
  return new DomainError("forbidden", "forbidden", "Forbidden", detail);
}

/** `what` does not exist, or is not the caller's to see. */
export function notFound(what: string): DomainError {
  return new DomainError("not-found", "not-found", "Not found", `${what} does not exist`);
}

/** The request clashes with the market's state; `field`, when given, names the input at fault. */
export function conflict(detail: string, field?: string): DomainError {
  return new DomainError(
    "conflict",
    "conflict",
    "Conflict",
    detail,
    field === undefined ? undefined : [{ field, message: detail }],
  );
}
