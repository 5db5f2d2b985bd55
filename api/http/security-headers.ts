import type { NextFunction, Request, Response } from "express";
import helmet from "helmet";

/**
 * Helmet's security headers, worked out once. With the options used here Helmet sets the same
 * headers on every answer, through a dozen middlewares in a row: a good share of a cheap request's
 * cost. Its middleware is run once against a recorder at start-up, and the headers it set are then
 * set on each answer in one step; Helmet stays the source of the policy.
 */
export function securityHeaders(): (req: Request, res: Response, next: NextFunction) => void {
  const headers = new Map<string, string | number | readonly string[]>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name, value);
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let finished = false;
  helmet()({} as Request, recorder as unknown as Response, () => (finished = true));
  // A Helmet that answered by itself, or later (a policy per request), would be lost here.
  if (!finished) throw new Error("helmet did not hand the request on at once: its headers cannot be worked out once");
  const fixed = [...headers];
  return (_req, res, next) => {
    for (const [name, value] of fixed) res.setHeader(name, value);
    next();
  };
}
