import { randomBytes } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApp } from "../../api/http/app.js";
import { IdempotencyKeys } from "../../api/http/idempotency.js";
import { MasterKey } from "../../api/identity/secrets.js";
import type { Role } from "../../api/identity/users.js";
import { apiRoutes } from "../../api/routes/index.js";
import { silentLogger } from "../../sdk/log.js";
import { Client, closeMarket, openMarket, type Market } from "./helpers.js";

/**
 * Who may call what, written by hand from what each endpoint is for, and deliberately not derived
 * from the routes' `access`: a route declared with the wrong roles disagrees with this table.
 * `yes`: past sign-in and the role check; `no`: refused (401 signed out, 403 signed in).
 */
const TABLE = `
method  path                                  anonymous admin tenantAdmin buyer provider auditor
GET     /timeslots                            no        yes   yes         yes   yes      yes
POST    /timeslots/:sliceId/request           no        no    no          yes   no       no
GET     /timeslots/:sliceId/usage             no        yes   yes         yes   yes      yes     # whose lease is the handler's check
POST    /timeslots/:sliceId/release           no        no    no          yes   no       no
POST    /auth/login                           yes       yes   yes         yes   yes      yes
POST    /auth/wallet/challenge                yes       yes   yes         yes   yes      yes
POST    /auth/wallet                          yes       yes   yes         yes   yes      yes
GET     /chain                                yes       yes   yes         yes   yes      yes     # for wallets before they sign in
POST    /auth/logout                          no        yes   yes         yes   yes      yes
GET     /me                                   no        yes   yes         yes   yes      yes
POST    /me/api-keys                          no        yes   yes         yes   yes      yes     # an auditor's key is how /metrics is scraped
DELETE  /me/api-keys/:keyId                   no        yes   yes         yes   yes      yes
GET     /tenants                              no        yes   yes         yes   yes      yes     # one's own tenant; staff see all
POST    /tenants                              no        yes   no          no    no       no
GET     /tenants/:tenantId                    no        yes   yes         yes   yes      yes
POST    /tenants/:tenantId/suspend            no        yes   no          no    no       no
POST    /tenants/:tenantId/resume             no        yes   no          no    no       no
GET     /tenants/:tenantId/users              no        yes   yes         no    no       yes
POST    /tenants/:tenantId/users              no        yes   yes         no    no       no
GET     /users                                no        yes   no          no    no       yes
POST    /users                                no        yes   no          no    no       no      # staff are added by admins only
GET     /users/:userId                        no        yes   yes         yes   yes      yes     # oneself; the handler scopes the rest
PUT     /users/:userId/roles                  no        yes   yes         no    no       no
DELETE  /users/:userId                        no        yes   yes         no    no       no
GET     /credits/balance                      no        yes   yes         yes   yes      yes
POST    /credits/grant                        no        yes   no          no    no       no
POST    /credits/take                         no        yes   no          no    no       no
POST    /credits/requests                     no        no    yes         yes   yes      no      # tenant members ask; admins grant outright
GET     /credits/requests                     no        yes   yes         yes   yes      yes
POST    /credits/requests/:requestId/approve  no        yes   no          no    no       no
POST    /credits/requests/:requestId/reject   no        yes   no          no    no       no
GET     /nodes                                no        yes   yes         yes   yes      yes
GET     /nodes/:nodeId                        no        yes   yes         yes   yes      yes
GET     /nodes/:nodeId/calendar               no        yes   yes         yes   yes      yes
POST    /nodes                                no        no    no          no    yes      no
POST    /nodes/:nodeId/status                 no        no    yes         no    yes      no      # a tenant admin may take the tenant's node out of service
GET     /offers                               no        yes   yes         yes   yes      yes
GET     /offers/:offerId                      no        yes   yes         yes   yes      yes
POST    /offers                               no        no    no          no    yes      no
POST    /offers/:offerId/close                no        no    yes         no    yes      no      # stopping sales, like a node's status; pricing stays the provider's
POST    /offers/:offerId/price                no        no    no          no    yes      no
POST    /offers/:offerId/enroll               no        no    no          no    yes      no
GET     /rounds/current                       no        yes   yes         yes   yes      yes
GET     /bids                                 no        yes   no          yes   no       no      # the gateway's sealed book; auditors read bids on-chain (/audit/events)
GET     /bids/:bidRef                         no        yes   no          yes   no       no
POST    /bids                                 no        no    no          yes   no       no
GET     /leases                               no        yes   yes         yes   yes      yes
GET     /leases/:leaseId                      no        yes   yes         yes   yes      yes
GET     /leases/:leaseId/usage                no        yes   yes         yes   yes      yes
POST    /leases/:leaseId/release              no        no    no          yes   no       no
POST    /leases/:leaseId/preempt              no        no    yes         no    yes      no      # the node's tenant takes it back
GET     /market/prices                        no        yes   yes         yes   yes      yes
GET     /market/overview                      no        yes   no          no    no       yes
GET     /audit/events                         no        yes   yes         yes   yes      yes     # scoped to one's own events by the handler
GET     /notifications/stream                 no        yes   yes         yes   yes      yes
POST    /webhooks                             no        yes   yes         yes   yes      yes     # one's own notifications: changes nothing in the market
GET     /webhooks                             no        yes   yes         yes   yes      yes
GET     /webhooks/:webhookId/deliveries       no        yes   yes         yes   yes      yes
POST    /webhooks/:webhookId/deliveries/:notificationId/retry no yes yes      yes   yes      yes     # one's own dead letters
DELETE  /webhooks/:webhookId                  no        yes   yes         yes   yes      yes
GET     /                                     yes       yes   yes         yes   yes      yes     # the portal, or a redirect to /docs
GET     /healthz                              yes       yes   yes         yes   yes      yes
GET     /readyz                               yes       yes   yes         yes   yes      yes
GET     /metrics                              no        yes   no          no    no       yes
GET     /openapi.json                         yes       yes   yes         yes   yes      yes
GET     /docs                                 yes       yes   yes         yes   yes      yes
GET     /docs/init.js                         yes       yes   yes         yes   yes      yes
`;

const CALLERS = ["anonymous", "admin", "tenantAdmin", "buyer", "provider", "auditor"] as const;
type Caller = (typeof CALLERS)[number];

interface Line {
  endpoint: string;
  method: string;
  path: string;
  allowed: Record<Caller, boolean>;
}

function parseTable(text: string): Line[] {
  const [header = "", ...rows] = text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line !== "");
  expect(header.split(/\s+/)).toEqual(["method", "path", ...CALLERS]);
  return rows.map((row) => {
    const [method = "", path = "", ...cells] = row.split(/\s+/);
    if (cells.length !== CALLERS.length || cells.some((cell) => cell !== "yes" && cell !== "no")) {
      throw new Error(`the table's line for ${method} ${path} needs one yes or no per caller`);
    }
    const allowed = Object.fromEntries(CALLERS.map((caller, i) => [caller, cells[i] === "yes"]));
    return { endpoint: `${method} ${path}`, method, path, allowed: allowed as Record<Caller, boolean> };
  });
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every `METHOD /path` an app built like the gateway's answers, read from Express's own routing. */
function servedEndpoints(market: Market): string[] {
  const app = createApp({
    routes: apiRoutes,
    services: market.gateway.services,
    users: market.gateway.services.users,
    idempotency: new IdempotencyKeys(market.gateway.services.db, new MasterKey(randomBytes(32)), () =>
      Promise.resolve("mined"),
    ),
    logger: silentLogger,
    limits: { bodyBytes: 1024, requestsPerMinute: 1 },
    notReady: () => Promise.resolve(undefined),
    gauges: [],
  });
  const walk = (stack: Layer[]): string[] =>
    stack.flatMap((layer) =>
      layer.route === undefined
        ? walk(layer.handle.stack ?? [])
        : Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${layer.route?.path}`),
    );
  return walk((app.router as unknown as { stack: Layer[] }).stack);
}

/** The status and media type of one call; the body is dropped, as streams (SSE, exports) never end. */
async function call(client: Client, method: string, path: string): Promise<{ status: number; type: string }> {
  const body = method === "POST" || method === "PUT" ? "{}" : undefined;
  const response = await fetch(client.base + path, {
    method,
    headers: {
      ...(client.token === undefined ? {} : { authorization: `Bearer ${client.token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body,
  });
  await response.body?.cancel();
  return { status: response.status, type: response.headers.get("content-type") ?? "" };
}

const MISSING_ID = "999999";
const MISSING_UUID = "00000000-0000-4000-8000-000000000000";
const SAMPLE_PARAMS: Record<string, string> = {
  userId: MISSING_UUID,
  bidRef: MISSING_UUID,
  webhookId: MISSING_UUID,
  keyId: "AAAAAAAAAAAA",
  sliceId: `${MISSING_ID}-3600`,
  notificationId: "1:lease.created",
};

describe("who may call each endpoint", () => {
  const table = parseTable(TABLE);
  let m: Market;
  let callers: { caller: Caller; client: Client; tenantId: number | undefined }[];

  beforeAll(async () => {
    m = await openMarket();
    // The market's seller holds two roles; these hold one each, so each column tests one role.
    const onlyRole = async (role: Role, email: string) => {
      const path = `/tenants/${m.tenants.provider}/users`;
      const created = await m.admin.must<{ apiKey: string }>("POST", path, { name: role, email, roles: [role] });
      return m.admin.as(created.apiKey);
    };
    callers = [
      { caller: "anonymous", client: new Client(m.gateway.url), tenantId: undefined },
      { caller: "admin", client: m.admin, tenantId: undefined },
      { caller: "tenantAdmin", client: await onlyRole("tenantAdmin", "tina@racks.test"), tenantId: m.tenants.provider },
      { caller: "buyer", client: m.buyer.client, tenantId: m.tenants.buyers },
      { caller: "provider", client: await onlyRole("provider", "pete@racks.test"), tenantId: m.tenants.provider },
      { caller: "auditor", client: m.auditor.client, tenantId: undefined },
    ];
  });
  afterAll(() => closeMarket(m));

  it("has one line for every endpoint the gateway serves, and none for an endpoint it does not", () => {
    const listed = table.map((line) => line.endpoint);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...new Set(servedEndpoints(m))].sort());
  });

  it("lets each role through where the table says yes, and refuses it with a problem where it says no", async () => {
    const wrong: string[] = [];
    for (const line of table) {
      await Promise.all(
        callers.map(async ({ caller, client, tenantId }) => {
          // Members name their own tenant, so the handler's tenant check never stands in for the role check.
          const path = line.path.replace(/:(\w+)/g, (_match, name: string) =>
            name === "tenantId" ? String(tenantId ?? MISSING_ID) : (SAMPLE_PARAMS[name] ?? MISSING_ID),
          );
          const { status, type } = await call(client, line.method, path);
          const refused = status === 401 || status === 403;
          if (line.allowed[caller] ? refused : status !== (caller === "anonymous" ? 401 : 403)) {
            wrong.push(
              `${line.endpoint} as ${caller}: ${line.allowed[caller] ? "allowed" : "refused"} expected, got ${status}`,
            );
          } else if (!line.allowed[caller] && !type.includes("application/problem+json")) {
            wrong.push(`${line.endpoint} as ${caller}: refused with ${type}, not a problem`);
          }
        }),
      );
    }
    expect(wrong).toEqual([]);
  });
});
