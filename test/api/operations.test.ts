import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { RunningGateway } from "../../api/gateway.js";
import { apiRoutes } from "../../api/routes/index.js";
import { Client, openChain, openGateway, type Chain } from "./helpers.js";

describe("operating the gateway", () => {
  let chain: Chain;
  let gateway: RunningGateway;
  let admin: Client;

  beforeAll(async () => {
    chain = await openChain();
    gateway = await openGateway(chain, {
      limits: { bodyBytes: 1024, requestsPerMinute: 10_000 },
      webhooks: { allowInternalNetworks: false },
    });
    admin = new Client(gateway.url, gateway.bootstrapApiKey);
  });
  afterAll(async () => {
    await gateway.close();
    await chain.close();
  });

  it("answers health, readiness and Prometheus metrics", async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    await gateway.services.indexer.catchUp();
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    await admin.get("/me");
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
    const metrics = (await admin.request<string>("GET", "/metrics")).body;
    expect(metrics).toMatch(/^indexer_lag_blocks 0$/m);
    expect(metrics).toMatch(/^http_requests_total\{method="GET",route="\/me",status="200"\} \d+$/m);
    expect(metrics).toContain("http_request_duration_seconds_bucket");
  });

  it("publishes a valid OpenAPI 3.1 document of every route, from the request schemas", async () => {
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; requestBody?: unknown }>>;
    };
    expect(document.openapi).toBe("3.1.0");
    await SwaggerParser.validate(structuredClone(document) as never);
    for (const route of apiRoutes) {
      expect(document.paths[route.path.replace(/:(\w+)/g, "{$1}")]?.[route.method]).toBeDefined();
    }
    const search = document.paths["/timeslots"]?.get;
    expect(search?.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["cpu", "ram", "start", "end"]));
    const request = JSON.stringify(document.paths["/timeslots/{sliceId}/request"]?.post?.requestBody);
    expect(request).toContain("duration");
    expect(request).toContain("minutes");
  });

  it("serves the interactive API page", async () => {
    const page = await fetch(`${gateway.url}/docs`);
    expect(await page.text()).toContain("swagger-ui");
    expect((await fetch(`${gateway.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it("sends security headers", async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(response.headers.get("strict-transport-security")).toContain("max-age=");
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("x-powered-by")).toBeNull();
  });

  it("answers problems for an unknown route, malformed JSON and a body too large", async () => {
    const missing = await admin.get<{ status: number; detail: string }>("/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
    const malformed = await admin.request<{ field: string }>("POST", "/tenants", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body.field).toBe("body");
    const large = await admin.post<{ field: string }>("/tenants", { name: "x".repeat(5000) });
    expect(large.status).toBe(413);
    expect(large.body.field).toBe("body");
    const long = await admin.post<{ field: string }>("/tenants", { name: "x".repeat(101) });
    expect(long.status).toBe(400);
    expect(long.body.field).toBe("body.name");
  });

  it("refuses webhooks into the gateway's own network", async () => {
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://10.1.2.3/hook",
      "http://[::1]/hook",
      "http://localhost/x",
    ]) {
      const answer = await admin.post<{ field: string; detail: string }>("/webhooks", { url });
      expect({ url, status: answer.status, field: answer.body.field }).toEqual({ url, status: 400, field: "body.url" });
      expect(answer.body.detail).toMatch(/internal address|does not resolve/);
    }
  });

  it("limits the request rate per credential", async () => {
    const limited = await openGateway(chain, {
      database: `${chain.directory}/limited.sqlite`,
      limits: { bodyBytes: 1024, requestsPerMinute: 5 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i += 1) statuses.push((await fetch(`${limited.url}/healthz`)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const refused = await fetch(`${limited.url}/healthz`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("content-type")).toContain("application/problem+json");
      expect(refused.headers.get("ratelimit-policy")).toContain("5");
    } finally {
      await limited.close();
    }
  });
});
