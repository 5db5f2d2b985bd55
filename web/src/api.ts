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

// The gateway's records, as the portal shows them.

export type Role = "admin" | "tenantAdmin" | "buyer" | "provider" | "auditor";

export interface Me {
  user: {
    userId: string;
    tenantId: number | null;
    name: string;
    email: string;
    roles: Role[];
    address: string;
    custodial: boolean;
  };
  credits: Balance;
}
export interface Balance {
  address: string;
  wallet: string;
  available: string;
  escrowed: string;
}
export interface Resources {
  cores: number;
  memoryGiB: number;
  storageGB: number;
  networkGbps: number;
  gpus: number;
}
export interface Slice {
  sliceId: string;
  offerId: number;
  nodeId: number;
  start: string;
  end: string;
  sliceSeconds: number;
  minSlices: number;
  maxSlices: number;
  model: "fixed" | "dynamic" | "auction";
  pricePerHour: string | null;
  /** Auctions: the round the offer is listed in. */
  roundId: number | null;
  resources: Resources;
}
export interface Lease {
  leaseId: number;
  buyer: string;
  nodeId: number;
  offerId: number;
  providerTenantId: number;
  start: string;
  end: string;
  status: "pending" | "active" | "ended" | "cleaned";
  endReason: string | null;
  pricePerHour: string;
  cost: string;
  paid: string | null;
  refund: string | null;
  image: string | null;
  nodeAddress: string | null;
}
export interface Usage {
  lease: Lease;
  elapsedSeconds: number;
  accrued: string;
  metering: { recordHash: string; meteredUntil: string } | null;
  samples: { at: string; powerState: string; watts: number | null }[];
}
export interface Bid {
  bidRef: string;
  roundId: number;
  state: string;
  deposit: string;
  revealOpensAt: string;
  revealClosesAt: string;
  terms: { offerId: number | null; start: string; durationMinutes: number; pricePerHour: string } | null;
  leaseId: number | null;
}
export interface Node {
  nodeId: number;
  tenantId: number;
  agent: string;
  resources: Resources;
  attributes: string;
  status: "available" | "maintenance" | "retired";
}
export interface Offer {
  offerId: number;
  nodeId: number;
  tenantId: number;
  start: number;
  end: number;
  sliceSeconds: number;
  maxSlices: number;
  hours: { from: number; to: number } | null;
  model: string;
  pricePerHour: string | null;
}
export interface Tenant {
  tenantId: number;
  name: string;
  status: string;
  members: number;
  nodes: number;
}
export interface User {
  userId: string;
  tenantId: number | null;
  name: string;
  email: string;
  roles: Role[];
  address: string;
}
export interface CreditRequest {
  requestId: number;
  requester: string;
  amount: string;
  reason: string;
  status: string;
}
export interface Stats {
  sales: number;
  average: string | null;
  median: string | null;
  last: string | null;
}
export interface AuditRecord {
  id: number;
  blockNumber: number;
  txHash: string;
  timestamp: string;
  event: string;
  args: Record<string, unknown>;
}
