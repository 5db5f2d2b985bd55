import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { allows } from "../../api/http/route.js";
import type { Role, User } from "../../api/identity/users.js";
import { apiRoutes } from "../../api/routes/index.js";
import { Client, closeMarket, listOffer, openMarket, type Market } from "./helpers.js";

const SAMPLE_PARAMS: Record<string, string> = {
  userId: "00000000-0000-4000-8000-000000000000",
  bidRef: "00000000-0000-4000-8000-000000000000",
  webhookId: "00000000-0000-4000-8000-000000000000",
  keyId: "AAAAAAAAAAAA",
  sliceId: "1-3600",
  notificationId: "1:lease.created",
};

/** Everything a forbidden call could have changed: the chain's head and every gateway table. */
async function fingerprint(m: Market): Promise<string> {
  const { db } = m.gateway.services;
  const tables = ["users", "api_keys", "sessions", "wallets", "idempotency", "sealed_bids", "webhooks", "events"];
  const counts = await Promise.all(
    tables.map(async (table) => `${table}=${(await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n}`),
  );
  return [`block=${await m.chain.provider.getBlockNumber()}`, ...counts].join(" ");
}

describe("authorization", () => {
  let m: Market;
  let callers: { role: Role | "anonymous"; client: Client; user: User | undefined }[];

  beforeAll(async () => {
    m = await openMarket();
    const single = async (role: Role, tenantId: number | null, email: string) => {
      const path = tenantId === null ? "/users" : `/tenants/${tenantId}/users`;
      const created = await m.admin.must<{ apiKey: string; user: { userId: string } }>("POST", path, {
        name: role,
        email,
        roles: [role],
      });
      return { client: m.admin.as(created.apiKey), userId: created.user.userId };
    };
    const tenantAdmin = await single("tenantAdmin", m.tenants.provider, "ta@racks.test");
    const provider = await single("provider", m.tenants.provider, "prov@racks.test");
    const byId = (id: string) => m.gateway.services.users.byId(id);
    callers = [
      { role: "anonymous", client: new Client(m.gateway.url), user: undefined },
      {
        role: "admin",
        client: m.admin,
        user: (await m.gateway.services.users.list({})).find((u) => u.roles.includes("admin")),
      },
      { role: "tenantAdmin", client: tenantAdmin.client, user: await byId(tenantAdmin.userId) },
      { role: "buyer", client: m.buyer.client, user: await byId(m.buyer.userId) },
      { role: "provider", client: provider.client, user: await byId(provider.userId) },
      { role: "auditor", client: m.auditor.client, user: await byId(m.auditor.userId) },
    ];
  });
  afterAll(() => closeMarket(m));

  it("refuses every call a role may not make with 401 or 403, and changes nothing", async () => {
    const before = await fingerprint(m);
    let checked = 0;
    for (const route of apiRoutes) {
      const path = route.path.replace(/:(\w+)/g, (_match, name: string) => SAMPLE_PARAMS[name] ?? "1");
      for (const { role, client, user } of callers) {
        if (allows(route.access, user)) continue;
        const answer = await client.request(route.method.toUpperCase(), path, route.method === "get" ? undefined : {}, {
          "idempotency-key": `matrix-${checked}`,
        });
        expect({ route: `${route.method} ${route.path}`, role, status: answer.status }).toEqual({
          route: `${route.method} ${route.path}`,
          role,
          status: role === "anonymous" ? 401 : 403,
        });
        expect(answer.headers.get("content-type")).toContain("application/problem+json");
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(await fingerprint(m)).toBe(before);
  });

  it("keeps tenants apart where a role is allowed but the object is another tenant's", async () => {
    const before = await fingerprint(m);
    const offer = await listOffer(m, { nodeId: m.nodes.small, start: m.hour });
    const booked = await m.buyer.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${offer}-${m.hour}/request`,
      {
        duration: 60,
      },
    );
    const mid = await fingerprint(m);
    expect(mid).not.toBe(before);
    const leaseId = booked.lease.leaseId;
    // A buyer of another tenant neither sees nor releases the lease.
    expect((await m.rival.client.get(`/leases/${leaseId}`)).status).toBe(404);
    expect((await m.rival.client.post(`/leases/${leaseId}/release`)).status).toBe(404);
    // A tenant admin cannot add users to another tenant, nor a provider manage another tenant's node.
    const outsider = await m.admin.must<{ apiKey: string }>("POST", `/tenants/${m.tenants.rivals}/users`, {
      name: "Rita",
      email: "rita@climate.test",
      roles: ["tenantAdmin", "provider"],
    });
    const rita = m.admin.as(outsider.apiKey);
    const afterRita = await fingerprint(m);
    expect(
      (await rita.post(`/tenants/${m.tenants.provider}/users`, { name: "x", email: "x@x.test", roles: ["buyer"] }))
        .status,
    ).toBe(403);
    expect((await rita.post(`/nodes/${m.nodes.small}/status`, { status: "maintenance" })).status).toBe(403);
    expect((await rita.post(`/leases/${leaseId}/preempt`)).status).toBe(404);
    expect((await rita.get(`/tenants/${m.tenants.provider}`)).status).toBe(403);
    expect((await m.buyer.client.get(`/credits/balance?userId=${m.rival.userId}`)).status).toBe(404);
    expect(await fingerprint(m)).toBe(afterRita);
  });

  it("answers 401 for a wrong or revoked key, and a session works until logout", async () => {
    expect((await new Client(m.gateway.url, "mm_AAAAAAAAAAAA_" + "x".repeat(43)).get("/me")).status).toBe(401);
    const issued = await m.buyer.client.must<{ keyId: string; apiKey: string }>("POST", "/me/api-keys", {
      label: "ci",
    });
    const extra = m.admin.as(issued.apiKey);
    expect((await extra.get("/me")).status).toBe(200);
    await m.buyer.client.must("DELETE", `/me/api-keys/${issued.keyId}`);
    expect((await extra.get("/me")).status).toBe(401);

    const login = await new Client(m.gateway.url).post<{ token: string }>("/auth/login", {
      email: "bea@render.test",
      password: "bea-password",
    });
    expect(login.status).toBe(200);
    expect(login.headers.get("set-cookie")).toMatch(/mm_session=.*HttpOnly.*SameSite=Strict/i);
    const session = m.admin.as(login.body.token);
    expect((await session.get<{ user: { email: string } }>("/me")).body.user.email).toBe("bea@render.test");
    await session.post("/auth/logout");
    expect((await session.get("/me")).status).toBe(401);
    const wrong = await new Client(m.gateway.url).post<{ field: string }>("/auth/login", {
      email: "bea@render.test",
      password: "not-her-password",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.field).toBe("body.password");
  });
});
