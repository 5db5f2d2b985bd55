import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

import { RedfishNetworkError, type NoAnswer } from "./errors.js";

/** How to reach one BMC. Credentials live here and nowhere else: never in URLs, logs or errors. */
export interface TlsOptions {
  /** PEM of the CA that signed the BMC's certificate, for BMCs with their own CA. */
  ca?: string | Buffer;
  /** Accept any certificate. Only for a BMC on an isolated management network; say so explicitly. */
  insecure?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** A keep-alive HTTP(S) connection pool to one BMC. */
export class Transport {
  readonly #base: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #https: boolean;

  constructor(baseUrl: string, tls: TlsOptions = {}) {
    this.#base = new URL(baseUrl);
    if (this.#base.username !== "" || this.#base.password !== "") {
      throw new Error("put BMC credentials in the credentials, not in the URL");
    }
    this.#https = this.#base.protocol === "https:";
    if (!this.#https && this.#base.protocol !== "http:")
      throw new Error(`unsupported BMC URL scheme ${this.#base.protocol}`);
    // BMCs are small machines: a few connections each is what they handle well.
    this.#agent = this.#https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ca: tls.ca, rejectUnauthorized: tls.insecure !== true })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  /** The BMC's origin, safe to log. */
  get origin(): string {
    return this.#base.origin;
  }

  send(request: RawRequest): Promise<RawResponse> {
    const target = new URL(request.path, this.#base);
    const make = this.#https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const fail = (cause: unknown) =>
        reject(
          new RedfishNetworkError(
            request.method,
            target.pathname,
            timedOut ? "timeout" : noAnswerOf(cause),
            `${this.origin}: ${describe(cause)}`,
            { cause },
          ),
        );
      const outgoing = make(
        target,
        {
          method: request.method,
          agent: this.#agent,
          headers: {
            Accept: "application/json",
            "OData-Version": "4.0",
            ...(request.body === undefined
              ? {}
              : { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(request.body)) }),
            ...request.headers,
          },
          timeout: request.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", fail);
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      outgoing.on("timeout", () => {
        timedOut = true;
        outgoing.destroy(new Error(`no answer within ${request.timeoutMs} ms`));
      });
      outgoing.on("error", fail);
      outgoing.end(request.body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

const NEVER_REACHED = new Set(["ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EADDRNOTAVAIL"]);

/** Sorts a socket error: whether the request may have reached the BMC matters to what is safe to resend. */
function noAnswerOf(cause: unknown): NoAnswer {
  const code = String((cause as NodeJS.ErrnoException | undefined)?.code ?? "");
  if (code === "ECONNREFUSED") return "refused";
  if (NEVER_REACHED.has(code)) return "unreachable";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (/CERT|TLS|SSL|SIGNATURE/.test(code)) return "tls";
  return "other";
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined ? cause.message : `${cause.message} (${code})`;
  }
  return String(cause);
}
