import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";

import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Db } from "../../api/db/database.js";
import { openGatewayDatabase } from "../../api/db/migrations.js";
import { createApp } from "../../api/http/app.js";
import { IdempotencyKeys } from "../../api/http/idempotency.js";
import { routesOf } from "../../api/http/route.js";
import { MasterKey } from "../../api/identity/secrets.js";
import { Users } from "../../api/identity/users.js";
import { noteSent } from "../../api/sent-transactions.js";
import { createLogger, silentLogger, type LogFields, type Logger } from "../../sdk/log.js";
import { closeMarket, listOffer, openMarket, type Market } from "./helpers.js";

interface Problem {
  status: number;
  title: string;
  detail?: string;
  field?: string;
}

const EIGHTY_DIGITS = "9".repeat(80);

describe("input that used to get a 500", () => {
  let m: Market;
  let fixedOffer: number;

  beforeAll(async () => {
    m = await openMarket();
    fixedOffer = await listOffer(m, { nodeId: m.nodes.big, start: m.hour });
  });
  afterAll(() => closeMarket(m));

  /** Expects a 4xx problem naming `field`. */
  const refused = (answer: { status: number; headers: Headers; body: Problem }, field: string, status = 400) => {
    expect(answer.headers.get("content-type")).toContain("application/problem+json");
    expect({ status: answer.status, field: answer.body.field }).toEqual({ status, field });
  };

  it("refuses numbers wider than the contracts hold, naming the field", async () => {
    const buyer = m.buyer.client;
    refused(await buyer.post<Problem>("/credits/requests", { amount: EIGHTY_DIGITS, reason: "big" }), "body.amount");
    refused(
      await m.seller.client.post<Problem>("/offers", {
        nodeId: m.nodes.big,
        start: m.hour,
        end: m.hour + 3600,
        sliceSeconds: 3600,
        maxSlices: 1,
        model: "fixed",
        pricePerHour: EIGHTY_DIGITS,
      }),
      "body.pricePerHour",
    );
    refused(
      await m.seller.client.post<Problem>("/offers", {
        nodeId: m.nodes.big,
        start: m.hour,
        end: 2 ** 32,
        sliceSeconds: 3600,
        maxSlices: 1,
        model: "fixed",
        pricePerHour: "1",
      }),
      "body.end",
    );
    refused(
      await buyer.post<Problem>("/bids", { start: m.hour, duration: 60, pricePerHour: EIGHTY_DIGITS }),
      "body.pricePerHour",
    );
    refused(
      await buyer.post<Problem>(`/timeslots/${fixedOffer}-${m.hour}/request`, { duration: 60, bid: EIGHTY_DIGITS }),
      "body.bid",
    );
    refused(await buyer.get<Problem>(`/nodes/${m.nodes.big}/calendar?start=99999999999999`), "query.start");
    refused(await buyer.get<Problem>("/market/prices?window=99999999999999"), "query.window");
  });

  it("reads dates strictly", async () => {
    refused(await m.buyer.client.get<Problem>(`/nodes/${m.nodes.big}/calendar?start=-5`), "query.start");
    refused(await m.buyer.client.get<Problem>(`/nodes/${m.nodes.big}/calendar?start=May%201`), "query.start");
    const iso = await m.buyer.client.get(`/nodes/${m.nodes.big}/calendar?start=2030-01-01T00:00:00Z`);
    expect(iso.status).toBe(200);
  });

  it("answers a malformed session cookie as no session, on every route", async () => {
    const cookie = { cookie: "mm_session=%E0%A4%A" };
    const health = await fetch(`${m.gateway.url}/healthz`, { headers: cookie });
    expect(health.status).toBe(200);
    const me = await fetch(`${m.gateway.url}/me`, { headers: cookie });
    expect(me.status).toBe(401);
    expect(me.headers.get("content-type")).toContain("application/problem+json");
  });

  it("refuses bodies it cannot read: wrong encoding, wrong type, too large", async () => {
    const post = (headers: Record<string, string>, body: BodyInit) =>
      fetch(`${m.gateway.url}/credits/requests`, {
        method: "POST",
        headers: { authorization: `Bearer ${m.buyer.client.token}`, ...headers },
        body,
      });
    const answers = {
      notGzip: await post({ "content-type": "application/json", "content-encoding": "gzip" }, "{}"),
      compress: await post({ "content-type": "application/json", "content-encoding": "compress" }, "{}"),
      text: await post({ "content-type": "text/plain" }, "amount=1"),
      form: await post({ "content-type": "application/x-www-form-urlencoded" }, "amount=1&reason=x"),
      xml: await post({ "content-type": "application/xml" }, "<amount>1</amount>"),
      large: await post({ "content-type": "application/json" }, JSON.stringify({ reason: "x".repeat(70_000) })),
    };
    const seen = Object.fromEntries(
      await Promise.all(
        Object.entries(answers).map(async ([name, answer]) => [
          name,
          { ...((await answer.json()) as Problem), status: answer.status },
        ]),
      ),
    ) as Record<keyof typeof answers, Problem>;
    expect(seen.notGzip).toMatchObject({ status: 400, field: "header.Content-Encoding" });
    expect(seen.compress).toMatchObject({ status: 415, field: "header.Content-Encoding" });
    for (const name of ["text", "form", "xml"] as const) {
      expect(seen[name]).toMatchObject({ status: 415, field: "header.Content-Type" });
    }
    expect(seen.large).toMatchObject({ status: 413, field: "body" });
    expect(seen.large.detail).toMatch(/at most \d+ bytes/);

    // A real gzip body is read as usual.
    const gzipped = await post(
      { "content-type": "application/json", "content-encoding": "gzip" },
      gzipSync(JSON.stringify({ amount: "1", reason: "zipped" })),
    );
    expect(gzipped.status).toBe(201);
  });

  it("boots only http(s) images outside the provider's own networks", async () => {
    for (const image of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "http://169.254.169.254/latest/meta-data/",
      "http://127.0.0.1:8080/x.iso",
      "http://[::ffff:10.0.0.1]/x.iso",
      "http://localhost/x.iso",
      "https://user:pass@images.example/x.iso",
    ]) {
      const answer = await m.buyer.client.post<Problem>(`/timeslots/${fixedOffer}-${m.hour}/request`, {
        duration: 60,
        image,
      });
      expect({ image, status: answer.status, field: answer.body.field }).toEqual({
        image,
        status: 400,
        field: "body.image",
      });
    }
  });

  it("refuses a deposit on a fixed booking and a replaced lease that is not the caller's", async () => {
    refused(
      await m.buyer.client.post<Problem>(`/timeslots/${fixedOffer}-${m.hour}/request`, {
        duration: 60,
        deposit: "100",
      }),
      "body.deposit",
    );
    const { lease } = await m.rival.client.must<{ lease: { leaseId: number } }>(
      "POST",
      `/timeslots/${fixedOffer}-${m.hour + 3600}/request`,
      { duration: 60 },
    );
    refused(
      await m.buyer.client.post<Problem>(`/timeslots/${fixedOffer}-${m.hour + 7200}/request`, {
        duration: 60,
        replacesLease: lease.leaseId,
      }),
      "body.replacesLease",
    );
    refused(
      await m.buyer.client.post<Problem>("/bids", {
        start: m.hour + 7200,
        duration: 60,
        pricePerHour: "1",
        replacesLease: lease.leaseId,
      }),
      "body.replacesLease",
    );
  });
});

describe("the gateway's HTTP edge", () => {
  let db: Db;

  beforeAll(async () => {
    db = await openGatewayDatabase(":memory:");
  });
  afterAll(() => db.close());

  /** The gateway's app with one route, `GET /broken`, that fails; listening on a free port. */
  async function edge(limits: { bodyBytes: number; requestsPerMinute: number }, logger: Logger = silentLogger) {
    const route = routesOf<undefined>();
    const app = createApp({
      routes: [
        route({
          method: "get",
          path: "/broken",
          tag: "test",
          summary: "fails",
          access: "public",
          response: z.object({}),
          handler: () => Promise.reject(new Error("disk on fire at /var/secret")),
        }),
        route({
          method: "post",
          path: "/book",
          tag: "test",
          summary: "sends a transaction, then fails",
          access: "public",
          body: z.object({}),
          response: z.object({}),
          async handler() {
            await noteSent("0xfeed");
            throw new Error("the node went away after the transaction was mined");
          },
        }),
      ],
      services: undefined,
      users: await Users.open(db),
      idempotency: new IdempotencyKeys(db, new MasterKey(randomBytes(32)), () => Promise.resolve("mined")),
      logger,
      limits,
      notReady: () => Promise.resolve(undefined),
      gauges: [],
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
  }

  it("does not run a retry again when the failed first attempt's transaction was mined", async () => {
    const gateway = await edge({ bodyBytes: 1024, requestsPerMinute: 100 });
    try {
      const book = () =>
        fetch(`${gateway.url}/book`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": "book-1" },
          body: "{}",
        });
      expect((await book()).status).toBe(500);
      const retry = await book();
      expect(retry.status).toBe(409);
      expect(((await retry.json()) as { type: string }).type).toMatch(/request-already-applied$/);
    } finally {
      gateway.close();
    }
  });

  it("writes an access log line per answer under its request id, with credentials masked", async () => {
    const lines: string[] = [];
    const gateway = await edge(
      { bodyBytes: 1024, requestsPerMinute: 100 },
      createLogger("info", (line) => lines.push(line)),
    );
    try {
      const answer = await fetch(`${gateway.url}/healthz`, {
        headers: { authorization: "Bearer mm_secretsecret_notarealkey", cookie: "mm_session=also-secret" },
      });
      expect(answer.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const access = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => "req" in l);
      expect(access).toMatchObject({
        level: "info",
        message: "GET /healthz 200",
        req: { id: answer.headers.get("x-request-id"), headers: { authorization: "[redacted]", cookie: "[redacted]" } },
        res: { statusCode: 200 },
      });
      expect(lines.join("\n")).not.toContain("secret");
    } finally {
      gateway.close();
    }
  });

  it("counts made-up credentials against the caller's address: a fresh cookie buys no fresh allowance", async () => {
    const gateway = await edge({ bodyBytes: 1024, requestsPerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const cookie = `mm_session=${Math.random().toString(36).slice(2)}`;
        statuses.push((await fetch(`${gateway.url}/healthz`, { headers: { cookie } })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      gateway.close();
    }
  });

  it("answers a 500 problem naming nothing internal, logged under the request id the client got", async () => {
    const logged: { message: string; fields?: LogFields }[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string, fields?: LogFields) => logged.push({ message, fields }),
    };
    const gateway = await edge({ bodyBytes: 1024, requestsPerMinute: 100 }, logger);
    try {
      const answer = await fetch(`${gateway.url}/broken`);
      expect(answer.status).toBe(500);
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(await answer.text()).not.toContain("disk on fire");
      const requestId = answer.headers.get("x-request-id");
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(logged).toHaveLength(1);
      expect(logged[0]?.fields).toMatchObject({ requestId, method: "GET", path: "/broken" });
    } finally {
      gateway.close();
    }
  });
});
