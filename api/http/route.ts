import type { Request, Response } from "express";
import { type z, type ZodTypeAny } from "zod";

import type { Role, User } from "../identity/users.js";

/** Who may call a route: nobody needs to sign in, any signed-in user, or users holding one of `roles`. */
export type Access = "public" | "user" | readonly Role[];

/** What a handler gets: validated input, the caller, and the raw exchange for streaming answers. */
export interface RouteInput<P, Q, B, S> {
  params: P;
  query: Q;
  body: B;
  caller: User;
  services: S;
  req: Request;
  res: Response;
}

/** Marks that a handler wrote the response itself (a stream, an export). */
export const STREAMED = Symbol("streamed");

/** An answer already serialised (kept from an earlier request, or stored as JSON): sent as it is. */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * One endpoint, declared once: its schemas validate requests and generate the OpenAPI document,
 * its `access` drives both the check and the authorization-matrix test.
 */
export interface Route<S = unknown> {
  method: "get" | "post" | "put" | "delete";
  /** Express-style path, e.g. `/tenants/:tenantId/users`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: ZodTypeAny;
  query?: ZodTypeAny;
  body?: ZodTypeAny;
  response: ZodTypeAny;
  /** Status of a successful answer; 200 unless given. */
  status?: number;
  /** Media types besides JSON the route can answer with (`text/csv`, `text/event-stream`). */
  alsoProduces?: string[];
  handler(input: RouteInput<unknown, unknown, unknown, S>): Promise<unknown>;
}

type NoInput = z.ZodObject<Record<string, never>>;

/** A route as declared: its handler's input is typed from its schemas. */
export interface RouteSpec<
  S,
  P extends ZodTypeAny,
  Q extends ZodTypeAny,
  B extends ZodTypeAny,
  R extends ZodTypeAny,
> extends Omit<Route<S>, "params" | "query" | "body" | "response" | "handler"> {
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  handler(input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>, S>): Promise<z.infer<R> | typeof STREAMED | JsonText>;
}

/** Route declarations for handlers that get services `S`: `const route = routesOf<Services>()`. */
export function routesOf<S>() {
  return <
    P extends ZodTypeAny = NoInput,
    Q extends ZodTypeAny = NoInput,
    B extends ZodTypeAny = z.ZodUndefined,
    R extends ZodTypeAny = ZodTypeAny,
  >(
    spec: RouteSpec<S, P, Q, B, R>,
  ): Route<S> => spec as unknown as Route<S>;
}

/** True when `user` may call a route with `access`. */
export function allows(access: Access, user: User | undefined): boolean {
  if (access === "public") return true;
  if (user === undefined) return false;
  if (access === "user") return true;
  return user.roles.some((role) => access.includes(role));
}
