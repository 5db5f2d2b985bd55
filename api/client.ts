import { randomUUID } from "node:crypto";

import type { Problem } from "./http/problem.js";

/** Attempts for a request the gateway could not be reached for (it may be restarting). */
const CONNECT_ATTEMPTS = 4;
const CONNECT_BACKOFF_MS = 250;

/** The gateway answered with a problem (`application/problem+json`) or an unexpected status. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
  ) {
    const detail = problem.detail ?? "no detail";
    const where = problem.field === undefined || detail.includes(problem.field) ? "" : ` (${problem.field})`;
    const revert = problem.revert === undefined ? "" : ` [${problem.revert.name}]`;
    super(`${problem.title ?? `HTTP ${status}`}: ${detail}${where}${revert}`);
    this.name = "GatewayError";
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sent with every POST; a fresh one per call unless given, and the same one on retries. */
  idempotencyKey?: string;
}

/**
 * A client of the gateway's REST API with one credential (an API key or session token). It
 * retries a request the gateway could not be reached for, with the same `Idempotency-Key`, so a
 * retried write is never made twice.
 */
export class GatewayClient {
  readonly url: string;

  constructor(
    url: string,
    readonly token?: string,
  ) {
    this.url = url.replace(/\/+$/, "");
  }

  as(token: string): GatewayClient {
    return new GatewayClient(this.url, token);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  post<T>(path: string, body: unknown = {}, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#send(method, path, options);
    const text = await response.text();
    const parsed: unknown = text === "" ? undefined : parseJson(text);
    if (!response.ok) {
      const problem =
        typeof parsed === "object" && parsed !== null ? (parsed as Partial<Problem>) : { detail: text.slice(0, 200) };
      throw new GatewayError(response.status, problem);
    }
    return parsed as T;
  }

  /** A non-JSON body (an NDJSON or CSV export) as it arrives, for exports too big to hold. */
  async stream(path: string, query?: Query): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#send("GET", path, { query });
    if (!response.ok || response.body === null) {
      throw new GatewayError(response.status, parseJson(await response.text()) as Partial<Problem>);
    }
    return response.body;
  }

  async #send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (method === "POST") headers["idempotency-key"] = options.idempotencyKey ?? randomUUID();
    const target = `${this.url}${path}${queryString(options.query)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(target, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
        });
      } catch (error) {
        if (attempt >= CONNECT_ATTEMPTS) {
          throw new Error(`cannot reach the gateway at ${this.url}: ${causeOf(error)}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, CONNECT_BACKOFF_MS * 2 ** (attempt - 1)));
      }
    }
  }
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const entries = Object.entries(query).filter((entry): entry is [string, string | number | boolean] => {
    return entry[1] !== undefined;
  });
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

function causeOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
