import { z } from "zod";

import {
  RedfishError,
  RedfishHttpError,
  RedfishNetworkError,
  RedfishTimeoutError,
  isTransient,
  type ExtendedInfo,
  type NoAnswer,
} from "./errors.js";
import { Transport, type RawResponse, type TlsOptions } from "./transport.js";

/** A JSON document from the BMC. */
export type RedfishDocument = Record<string, unknown>;

export interface RedfishCredentials {
  username: string;
  password: string;
}

export interface RetryPolicy {
  /**
   * Tries after the first, for network errors and 5xx answers of idempotent requests only (GET,
   * HEAD, PATCH and PUT with If-Match) and of requests that never reached the BMC.
   */
  retries: number;
  /** First backoff; each further one doubles, with jitter. */
  backoffMs: number;
}

export interface RedfishClientOptions extends TlsOptions {
  url: string;
  credentials: RedfishCredentials;
  /**
   * `session` logs in and falls back to Basic when the BMC has no sessions or refuses the login
   * (401/403, as sushy's SessionOrBasicAuth does); `basic` never logs in.
   */
  auth?: "session" | "basic";
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Longest wait for a 202 task to finish. */
  taskTimeoutMs?: number;
  /** Caps a BMC's `Retry-After`, so that a task monitor asking for a minute does not stall a lease. */
  maxRetryAfterMs?: number;
}

/** One exchange with the BMC, for summaries and traces: its status, or why it got none. Carries no credentials. */
export type Exchange =
  { method: string; path: string; status: number } | { method: string; path: string; noAnswer: NoAnswer };

export interface Answer {
  status: number;
  body: RedfishDocument | undefined;
  headers: RawResponse["headers"];
}

const DEFAULT_RETRY: RetryPolicy = { retries: 3, backoffMs: 250 };
const SESSIONS_FALLBACK = "/redfish/v1/SessionService/Sessions";
/** Answers to a login that mean "no sessions here", after which Basic is the way in. */
const NO_SESSION_SERVICE = new Set([404, 405, 501]);
/** Answers to a login that refuse sessions, where Basic may still work (sushy-tools' emulator, some firmware). */
const SESSION_REFUSED = new Set([401, 403]);
const IDEMPOTENT = new Set(["GET", "HEAD"]);
/** PATCH and PUT set values; with If-Match a repeat of one that was applied is refused (412), not applied twice. */
const IDEMPOTENT_WITH_IF_MATCH = new Set(["PATCH", "PUT"]);
const PRECONDITION_RETRIES = 2;

/**
 * A Redfish client as OpenStack's sushy and real BMC tooling behave: it logs in with a session
 * (Basic when the BMC has none or refuses the login), logs in again after a 401, sends `If-Match`
 * on PATCH and re-reads after a 412, follows 202 task monitors honouring `Retry-After`, and retries
 * network errors and 5xx answers of idempotent requests a bounded number of times with backoff.
 * Actions (POST) are sent once: whoever sent one reads the state to learn whether it was applied.
 */
export class RedfishClient {
  readonly #transport: Transport;
  readonly #credentials: RedfishCredentials;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #taskTimeoutMs: number;
  readonly #maxRetryAfterMs: number;
  #auth: "session" | "basic";
  #session: { token: string; location: string } | undefined;
  /** Once a session worked, a refused login is no reason to try Basic (sushy reasons the same way). */
  #hadSession = false;
  /** The refused login's status, after falling back to Basic, to explain a Basic 401 that follows. */
  #refusedLogin: number | undefined;
  #login: Promise<void> | undefined;
  /** Called after each exchange; summaries and meters listen here. */
  onExchange: ((exchange: Exchange) => void) | undefined;

  constructor(options: RedfishClientOptions) {
    this.#transport = new Transport(options.url, options);
    this.#credentials = options.credentials;
    this.#auth = options.auth ?? "session";
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#taskTimeoutMs = options.taskTimeoutMs ?? 300_000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 5_000;
  }

  /** The BMC's origin, safe to log. */
  get origin(): string {
    return this.#transport.origin;
  }

  /** How the client is authenticating now. */
  get authMode(): "session" | "basic" {
    return this.#auth;
  }

  async get(path: string): Promise<RedfishDocument> {
    const { body } = await this.request("GET", path);
    if (body === undefined) throw new RedfishError(`GET ${path} answered without a document`, false);
    return body;
  }

  /**
   * PATCHes `path` with the ETag of the version it reads first; on 412 (someone changed it in
   * between) it reads again and retries, as sushy does.
   */
  async patch(path: string, changes: RedfishDocument): Promise<Answer> {
    for (let attempt = 0; ; attempt += 1) {
      const current = await this.request("GET", path);
      const etag = etagOf(current);
      try {
        return await this.request("PATCH", path, changes, etag === undefined ? {} : { "If-Match": etag });
      } catch (error) {
        if (error instanceof RedfishHttpError && error.status === 412 && attempt < PRECONDITION_RETRIES) continue;
        throw error;
      }
    }
  }

  /**
   * POSTs an action, once; a 202 answer is followed to the end of its task. After a 5xx or no
   * answer the BMC may have acted: the caller reads the state before sending it again.
   */
  async post(path: string, body: RedfishDocument): Promise<Answer> {
    const answer = await this.request("POST", path, body);
    if (answer.status !== 202) return answer;
    return this.#awaitTask(answer);
  }

  /**
   * One request, authenticated, with bounded retries of what is transient: for idempotent requests,
   * and for any request that certainly never reached the BMC.
   */
  async request(
    method: string,
    path: string,
    body?: RedfishDocument,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const idempotent = isIdempotent(method, headers);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#authenticated(method, path, body, headers);
      } catch (error) {
        const resendable = idempotent || (error instanceof RedfishNetworkError && error.unsent);
        if (!resendable || !isTransient(error) || attempt >= this.#retry.retries) throw error;
        await sleep(backoff(this.#retry.backoffMs, attempt));
      }
    }
  }

  /** Ends the session, if there is one. */
  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    try {
      if (session !== undefined) {
        await this.#exchange("DELETE", session.location, undefined, { "X-Auth-Token": session.token });
      }
    } catch {
      // The session times out on its own; a failed logout loses nothing.
    } finally {
      this.#transport.close();
    }
  }

  async #authenticated(
    method: string,
    path: string,
    body: RedfishDocument | undefined,
    headers: Record<string, string>,
  ): Promise<Answer> {
    if (this.#auth === "session" && this.#session === undefined) await this.#ensureSession();
    const response = await this.#exchange(method, path, body, { ...headers, ...this.#authHeader() });
    if (response.status === 401 && this.#auth === "session") {
      // The session expired or the BMC restarted: log in again, once.
      this.#session = undefined;
      await this.#ensureSession();
      return answerOf(method, path, await this.#exchange(method, path, body, { ...headers, ...this.#authHeader() }));
    }
    if (this.#refusedLogin !== undefined && SESSION_REFUSED.has(response.status)) {
      const hint = `the BMC refused the session login too (${this.#refusedLogin}): check the credentials`;
      return answerOf(method, path, response, hint);
    }
    return answerOf(method, path, response);
  }

  #authHeader(): Record<string, string> {
    if (this.#session !== undefined) return { "X-Auth-Token": this.#session.token };
    const { username, password } = this.#credentials;
    return { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` };
  }

  /** Logs in once even when many requests need a session at the same moment. */
  #ensureSession(): Promise<void> {
    this.#login ??= this.#createSession().finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  async #createSession(): Promise<void> {
    const root = answerOf("GET", "/redfish/v1/", await this.#exchange("GET", "/redfish/v1/", undefined, {}));
    const sessions = linkOf(root.body, "Links", "Sessions") ?? SESSIONS_FALLBACK;
    const { username, password } = this.#credentials;
    const response = await this.#exchange("POST", sessions, { UserName: username, Password: password }, {});
    if (NO_SESSION_SERVICE.has(response.status)) {
      this.#auth = "basic";
      return;
    }
    if (SESSION_REFUSED.has(response.status) && !this.#hadSession) {
      // The next request says whether Basic works; a 401 then means the credentials are wrong.
      this.#auth = "basic";
      this.#refusedLogin = response.status;
      return;
    }
    answerOf("POST", sessions, response);
    const token = header(response.headers, "x-auth-token");
    if (token === undefined) throw new RedfishError(`POST ${sessions} gave no X-Auth-Token`, false);
    const id = sessionSchema.safeParse(parse(response.text)).data?.Id ?? "";
    const location = header(response.headers, "location") ?? `${sessions}/${id}`;
    this.#session = { token, location: new URL(location, this.#transport.origin).pathname };
    this.#hadSession = true;
  }

  async #awaitTask(accepted: Answer): Promise<Answer> {
    const monitor = header(accepted.headers, "location");
    if (monitor === undefined) return accepted;
    const deadline = Date.now() + this.#taskTimeoutMs;
    let answer = accepted;
    while (answer.status === 202) {
      if (Date.now() > deadline)
        throw new RedfishTimeoutError(`task ${monitor} did not finish in ${this.#taskTimeoutMs} ms`);
      await sleep(this.#retryAfterMs(answer));
      answer = await this.request("GET", monitor);
    }
    const task = taskSchema.safeParse(answer.body).data;
    const state = task?.TaskState;
    if (state === "Exception" || state === "Killed" || state === "Cancelled") {
      const messages = task?.Messages ?? [];
      throw new RedfishHttpError({
        method: "GET",
        path: monitor,
        status: 500,
        messages: messages.length > 0 ? messages : [{ Message: `task ended ${state}` }],
      });
    }
    return answer;
  }

  #retryAfterMs(answer: Answer): number {
    const value = header(answer.headers, "retry-after");
    const seconds = value === undefined ? 1 : Number(value);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Math.max(0, Date.parse(value ?? "") - Date.now());
    return Math.min(Number.isFinite(ms) ? ms : 1000, this.#maxRetryAfterMs);
  }

  async #exchange(
    method: string,
    path: string,
    body: RedfishDocument | undefined,
    headers: Record<string, string>,
  ): Promise<RawResponse> {
    let response: RawResponse;
    try {
      response = await this.#transport.send({
        method,
        path,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs: this.#timeoutMs,
      });
    } catch (error) {
      if (error instanceof RedfishNetworkError) this.onExchange?.({ method, path, noAnswer: error.noAnswer });
      throw error;
    }
    this.onExchange?.({ method, path, status: response.status });
    return response;
  }
}

/** A document's link, e.g. `linkOf(root, "Links", "Sessions")`. */
export function linkOf(document: RedfishDocument | undefined, ...keys: string[]): string | undefined {
  let node: unknown = document;
  for (const key of keys) node = (node as Record<string, unknown> | undefined)?.[key];
  const id = (node as { "@odata.id"?: unknown } | undefined)?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
}

/** The member links of a collection. */
export function membersOf(collection: RedfishDocument): string[] {
  const members = collection.Members;
  if (!Array.isArray(members)) return [];
  return members
    .map((m) => (m as { "@odata.id"?: unknown })["@odata.id"])
    .filter((id): id is string => typeof id === "string");
}

/** `@Message.ExtendedInfo` entries and task messages; a malformed entry is dropped, not fatal. */
const messageSchema = z
  .object({
    MessageId: z.string().optional().catch(undefined),
    Message: z.string().optional().catch(undefined),
    RelatedProperties: z.array(z.string()).optional().catch(undefined),
  })
  .passthrough();
const messagesSchema = z.array(z.unknown()).transform((items): ExtendedInfo[] =>
  items.flatMap((item) => {
    const parsed = messageSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  }),
);

const errorBodySchema = z.object({
  error: z
    .object({
      message: z.string().optional().catch(undefined),
      "@Message.ExtendedInfo": messagesSchema.optional().catch(undefined),
    })
    .passthrough(),
});
const sessionSchema = z.object({ Id: z.string() }).passthrough();
const taskSchema = z
  .object({ TaskState: z.string().optional(), Messages: messagesSchema.optional().catch(undefined) })
  .passthrough();

function answerOf(method: string, path: string, response: RawResponse, hint?: string): Answer {
  const body = parse(response.text);
  if (response.status >= 400) {
    const error = errorBodySchema.safeParse(body).data?.error;
    throw new RedfishHttpError({
      method,
      path,
      status: response.status,
      bmcMessage: error?.message,
      messages: error?.["@Message.ExtendedInfo"] ?? [],
      ...(hint === undefined ? {} : { hint }),
    });
  }
  return { status: response.status, body, headers: response.headers };
}

function isIdempotent(method: string, headers: Record<string, string>): boolean {
  if (IDEMPOTENT.has(method)) return true;
  return IDEMPOTENT_WITH_IF_MATCH.has(method) && Object.keys(headers).some((name) => name.toLowerCase() === "if-match");
}

function etagOf(answer: Answer): string | undefined {
  const tag = header(answer.headers, "etag") ?? answer.body?.["@odata.etag"];
  return typeof tag === "string" ? tag : undefined;
}

function header(headers: RawResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parse(text: string): RedfishDocument | undefined {
  if (text === "") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as RedfishDocument)
      : undefined;
  } catch {
    return undefined;
  }
}

function backoff(baseMs: number, attempt: number): number {
  const exponential = baseMs * 2 ** attempt;
  return exponential / 2 + Math.random() * (exponential / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
