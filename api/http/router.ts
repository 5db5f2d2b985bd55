import { Router, type NextFunction, type Request, type Response } from "express";

import type { Logger } from "../../sdk/log.js";
import type { User, Users } from "../identity/users.js";
import { recordingSent } from "../sent-transactions.js";
import type { IdempotencyKeys } from "./idempotency.js";
import { forbidden, unauthenticated } from "../errors.js";
import { ApiError, problemOf, sendProblem } from "./problem.js";
import { JsonText, STREAMED, allows, type Access, type Route } from "./route.js";

export const SESSION_COOKIE = "mm_session";

/** Media types a JSON body may come as. */
const JSON_TYPES = ["application/json", "application/*+json"];

const authenticated = new WeakMap<Request, Promise<User | undefined>>();

/**
 * `authenticate`, once per request: the rate limiter (which keys on who is asking) and the route
 * share one look-up. An invalid credential reads as nobody here; the route still refuses it.
 */
export function callerOf(req: Request, users: Users): Promise<User | undefined> {
  let caller = authenticated.get(req);
  if (caller === undefined) {
    caller = authenticate(req, users);
    authenticated.set(req, caller);
  }
  return caller;
}

/**
 * The caller of a request, when `access` lets them in; otherwise 401 for nobody signed in and 403
 * for a signed-in user without one of its roles. `what` names the endpoint in the refusal.
 */
export async function requireAccess(
  req: Request,
  users: Users,
  access: Access,
  what: string,
): Promise<User | undefined> {
  const caller = await callerOf(req, users);
  if (allows(access, caller)) return caller;
  if (caller === undefined) throw unauthenticated("sign in or send an API key");
  throw forbidden(`${what} needs one of the roles: ${describe(access)}`);
}

/** The user behind a request's API key (`Authorization: Bearer mm_...`) or session (bearer or cookie). */
export async function authenticate(req: Request, users: Users): Promise<User | undefined> {
  if (req.headers.authorization !== undefined) {
    const token = bearerOf(req);
    if (token === undefined) throw unauthenticated("use `Authorization: Bearer <key>`");
    const user = token.startsWith("mm_") ? await users.byApiKey(token) : await users.bySession(token);
    if (user === undefined) throw unauthenticated("the key or session is not valid");
    return user;
  }
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  return cookie === undefined ? undefined : users.bySession(cookie);
}

/** The token of an `Authorization: Bearer <token>` header, if the request has a well-formed one. */
export function bearerOf(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
}

/** A cookie's value; a value that is not valid percent-encoding is no value (it names no session). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join("="));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Mounts `routes`: authenticates, checks the route's access, validates params, query and body
 * against its schemas, applies `Idempotency-Key` to POSTs, and answers JSON or a problem.
 */
export function routerOf<S>(
  routes: readonly Route<S>[],
  services: S,
  deps: { users: Users; idempotency: IdempotencyKeys; logger: Logger },
): Router {
  const router = Router();
  for (const r of routes) {
    router[r.method](r.path, (req: Request, res: Response, next: NextFunction) => {
      handle(r, req, res).catch(next);
    });
  }

  async function handle(r: Route<S>, req: Request, res: Response): Promise<void> {
    const caller = await requireAccess(req, deps.users, r.access, `${r.method.toUpperCase()} ${r.path}`);
    if (r.body !== undefined && hasBody(req) && req.is(JSON_TYPES) === false) {
      throw new ApiError(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        `the body must be JSON (Content-Type: application/json), not ${req.headers["content-type"] ?? "untyped"}`,
        [{ field: "header.Content-Type", message: "must be application/json" }],
      );
    }
    const params = prefixed("path", () => r.params?.parse(req.params) ?? {});
    const query = prefixed("query", () => r.query?.parse(req.query) ?? {});
    const body = prefixed("body", () => (r.body === undefined ? undefined : r.body.parse(req.body ?? {})));

    const key = r.method === "post" ? req.header("idempotency-key") : undefined;
    const owner = caller?.userId ?? `ip:${req.ip ?? ""}`;
    if (key !== undefined) {
      const earlier = await deps.idempotency.claim(owner, key, { path: req.path, body: req.body as unknown });
      if (earlier !== undefined) {
        res.status(earlier.status).set("Idempotent-Replayed", "true");
        res.type(earlier.status >= 400 ? "application/problem+json" : "application/json").send(earlier.body);
        return;
      }
    }
    let status = r.status ?? 200;
    let text: string;
    try {
      const run = () => r.handler({ params, query, body, caller: caller as User, services, req, res });
      const result =
        key === undefined
          ? await run()
          : await recordingSent((txHash) => deps.idempotency.recordTransaction(owner, key, txHash), run);
      if (result === STREAMED) return;
      text = result instanceof JsonText ? result.text : JSON.stringify(result);
    } catch (error) {
      const problem = problemOf(error);
      status = problem.status;
      text = JSON.stringify(problem);
      if (status === 500) logFailure(deps.logger, req, res, error);
    }
    if (key !== undefined) await deps.idempotency.settle(owner, key, { status, body: text });
    res
      .status(status)
      .type(status >= 400 ? "application/problem+json" : "application/json")
      .send(text);
  }

  return router;
}

/** What a body parser's error is about: the encoding (unknown, or a body that is not in it), the charset, the body. */
function fieldOfBodyError(type: string | undefined, code: string | undefined): string {
  if (type?.startsWith("encoding.") === true || code?.startsWith("Z_") === true) return "header.Content-Encoding";
  if (type?.startsWith("charset.") === true) return "header.Content-Type";
  return "body";
}

/** True when the request carries a body, whatever its type. */
function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** Logs an unexpected failure with the request's id, which the client got in `X-Request-Id`. */
function logFailure(logger: Logger, req: Request, res: Response, error: unknown): void {
  logger.error("request failed", {
    requestId: res.getHeader("x-request-id"),
    method: req.method,
    path: req.path,
    error,
  });
}

/** Runs a parse and names the part of the request a validation error is in (`body.duration`). */
function prefixed<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof Error && "issues" in error && Array.isArray(error.issues)) {
      for (const issue of error.issues as { path: (string | number)[] }[]) issue.path.unshift(where);
    }
    throw error;
  }
}

function describe(access: Route["access"]): string {
  return typeof access === "string" ? access : access.join(", ");
}

/** The last handler: any error as a problem, never a stack trace. */
export function problemHandler(logger: Logger, bodyLimit: number) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, type, expose, message, code } = error as {
      status?: number;
      type?: string;
      expose?: boolean;
      message?: string;
      code?: string;
    };
    // Express's own body parser errors: malformed JSON, a body too large, an encoding it cannot read.
    if (status === 413) {
      sendProblem(res, {
        type: "https://metalmarket.dev/problems/too-large",
        title: "Body too large",
        status,
        detail: `the body may be at most ${bodyLimit} bytes`,
        field: "body",
      });
      return;
    }
    if (status === 400 && (error as { type?: string }).type === "entity.parse.failed") {
      sendProblem(res, {
        type: "https://metalmarket.dev/problems/invalid-request",
        title: "The request is not valid",
        status,
        detail: "the body is not valid JSON",
        field: "body",
        errors: [{ field: "body", message: "not valid JSON" }],
      });
      return;
    }
    if (status !== undefined && status >= 400 && status < 500 && expose === true) {
      sendProblem(res, {
        type: "https://metalmarket.dev/problems/invalid-request",
        title: status === 415 ? "Unsupported media type" : "The request is not valid",
        status,
        detail: `${message ?? "the body cannot be read"}${type === undefined ? "" : ` (${type})`}`,
        field: fieldOfBodyError(type, code),
      });
      return;
    }
    const problem = problemOf(error);
    if (problem.status === 500) logFailure(logger, req, res, error);
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(res, problem);
  };
}
