import type { Balance, User } from "../../api/records";

/** The portal's client of the gateway's REST API: same origin, a bearer token, problems as errors. */

export interface Problem {
  title?: string;
  detail?: string;
  field?: string;
  revert?: { name: string };
}

/** The gateway refused: its problem, with the field at fault when there is one. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiProblem";
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** A download (CSV, NDJSON) as a blob. */
  blob(path: string, query?: Query): Promise<Blob>;
  /** Notifications as they come (Server-Sent Events over fetch, so the token goes in a header). */
  notifications(signal: AbortSignal, onNotification: (n: Notification) => void): Promise<void>;
}

export interface Notification {
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

function search(query: Query | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

async function failure(response: Response): Promise<ApiProblem> {
  const text = await response.text();
  let problem: Problem = { detail: text.slice(0, 200) };
  try {
    problem = JSON.parse(text) as Problem;
  } catch {
    // Not JSON: keep the text.
  }
  return new ApiProblem(response.status, problem);
}

export function createApi(token: string | undefined): Api {
  const headers = (extra: Record<string, string> = {}) => ({
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    ...extra,
  });
  const send = async (path: string, init: RequestInit): Promise<Response> => {
    const response = await fetch(path, init);
    if (!response.ok) throw await failure(response);
    return response;
  };
  return {
    async get<T>(path: string, query?: Query) {
      return (await (
        await send(path + search(query), { headers: headers({ accept: "application/json" }) })
      ).json()) as T;
    },
    async post<T>(path: string, body: unknown = {}) {
      const response = await send(path, {
        method: "POST",
        headers: headers({ "content-type": "application/json", "idempotency-key": crypto.randomUUID() }),
        body: JSON.stringify(body),
      });
      return (await response.json()) as T;
    },
    async blob(path: string, query?: Query) {
      return (await send(path + search(query), { headers: headers() })).blob();
    },
    async notifications(signal, onNotification) {
      const response = await send("/notifications/stream", {
        headers: headers({ accept: "text/event-stream" }),
        signal,
      });
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (reader === undefined) return;
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          if (data !== "") onNotification(JSON.parse(data) as Notification);
        }
      }
    },
  };
}

/** What went wrong, for a person: the problem's detail and the field at fault. */
export function explain(error: unknown): string {
  if (error instanceof ApiProblem) {
    const { detail, title, field, revert } = error.problem;
    return [
      detail ?? title,
      field === undefined || detail?.includes(field) === true ? "" : `(${field})`,
      revert ? `[${revert.name}]` : "",
    ]
      .filter(Boolean)
      .join(" ");
  }
  return error instanceof Error ? error.message : String(error);
}

// The gateway's records: the same plain types the CLI uses, checked against the routes' schemas.
export type {
  AuditRecord,
  Balance,
  Bid,
  CreditRequest,
  Lease,
  Node,
  Offer,
  PriceStats as Stats,
  Resources,
  Role,
  Slice,
  Tenant,
  Usage,
  User,
} from "../../api/records";

export interface Me {
  user: User;
  credits: Balance;
}
