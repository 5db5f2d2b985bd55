import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

import { message, type RedfishMessage } from "./errors.js";

const MAX_BODY_BYTES = 64 * 1024;

/** An answer the BMC gives instead of the resource: its status, its messages and extra headers. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly messages: RedfishMessage[],
    readonly headers: Record<string, string> = {},
    /** The error's `message`, when the messages alone do not say what was wrong. */
    readonly summary?: string,
  ) {
    super(summary ?? messages[0]?.Message ?? `HTTP ${status}`);
  }
}

/**
 * 405 for a method the resource does not take, with the `Allow` it does. Base 1.5.0 has no
 * `OperationNotAllowed` (later registries do): the error's message says it instead.
 */
export function notAllowed(method: string, path: string, allowed: readonly string[]): HttpProblem {
  const allow = allowed.join(", ");
  return new HttpProblem(405, [message("GeneralError")], { Allow: allow }, `${path} takes ${allow}, not ${method}.`);
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** A request target split into its path (no trailing slash) and its query. */
export function parseTarget(url: string): { path: string; query: URLSearchParams } {
  const [rawPath = "/", rawQuery = ""] = url.split("?", 2);
  const path = decodeURIComponent(rawPath);
  return {
    path: path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path,
    query: new URLSearchParams(rawQuery),
  };
}

export function etagOf(value: string): string {
  return `"${createHash("sha1").update(value).digest("hex").slice(0, 16)}"`;
}

export function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpProblem(400, [
      message("PropertyValueTypeError", [JSON.stringify(value), field || "body"], [`#/${field}`]),
    ]);
  }
  return value as Record<string, unknown>;
}

export async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, [message("GeneralError")]);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/** Writes `reply`; for a HEAD, its headers only, with the length the GET's body would have. */
export function send(response: ServerResponse, reply: Reply, head = false): void {
  const isText = typeof reply.body === "string";
  const payload = reply.body === undefined ? "" : isText ? (reply.body as string) : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "OData-Version": "4.0",
    "Cache-Control": "no-cache",
    ...(payload === ""
      ? {}
      : { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(payload) }),
    ...reply.headers,
  });
  response.end(head ? undefined : payload);
}
