import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { closeMarket, listOffer, openMarket, readEvents, restartGateway, until, type Market } from "./helpers.js";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A webhook receiver that fails its first `failures` deliveries with 503. */
async function receiver(
  failures: number,
): Promise<{ url: string; received: Received[]; attempts: () => number; server: Server }> {
  const received: Received[] = [];
  let attempts = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      attempts += 1;
      if (attempts <= failures) {
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, attempts: () => attempts, server };
}

describe("notifications", () => {
  let m: Market;
  let offer: number;

  beforeAll(async () => {
    m = await openMarket();
    offer = await listOffer(m, { nodeId: m.nodes.big, start: m.hour });
  });
  afterAll(() => closeMarket(m));

  it("streams a user's lease events as Server-Sent Events", async () => {
    const token = m.buyer.client.token ?? "";
    const events = await readEvents(`${m.gateway.url}/notifications/stream`, token, "lease.refunded", 1, async () => {
      const { lease } = await m.buyer.client.must<{ lease: { leaseId: number } }>(
        "POST",
        `/timeslots/${offer}-${m.hour}/request`,
        {
          duration: 60,
        },
      );
      await m.buyer.client.must("POST", `/leases/${lease.leaseId}/release`);
    });
    const names = events.map((e) => e.event);
    expect(names).toEqual(expect.arrayContaining(["lease.created", "lease.ended", "lease.refunded"]));
    expect(events.find((e) => e.event === "lease.refunded")?.data).toMatchObject({ data: { refund: "2" } });
  });

  it("signs webhook deliveries and retries them with backoff until they land", async () => {
    const hook = await receiver(2);
    try {
      const created = await m.rival.client.must<{ webhookId: string; secret: string }>("POST", "/webhooks", {
        url: hook.url,
        types: ["credits.granted"],
      });
      await m.admin.must("POST", "/credits/grant", { userId: m.rival.userId, amount: "5", memo: "bonus" });
      const deadline = Date.now() + 15_000;
      while (hook.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(hook.attempts()).toBe(3);
      const [delivery] = hook.received;
      if (delivery === undefined) throw new Error("nothing delivered");
      const signature = String(delivery.headers["metalmarket-signature"]);
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
      const expected = createHmac("sha256", created.secret).update(`${t}.${delivery.body}`).digest("hex");
      expect(v1).toBe(expected);
      expect(JSON.parse(delivery.body)).toMatchObject({
        type: "credits.granted",
        data: { amount: "5", memo: "bonus" },
      });
      const { deliveries } = await m.rival.client.must<{ deliveries: { status: string; attempts: number }[] }>(
        "GET",
        `/webhooks/${created.webhookId}/deliveries`,
      );
      expect(deliveries).toEqual([expect.objectContaining({ status: "delivered", attempts: 3 })]);
    } finally {
      hook.server.close();
    }
  });

  it("refuses a webhook that is not an http(s) URL", async () => {
    const answer = await m.rival.client.post<{ field: string }>("/webhooks", { url: "ftp://example.test/x" });
    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe("body.url");
  });

  it("does not follow a webhook's redirect: it could lead past the destination check", async () => {
    const target = await receiver(0);
    const redirecting = createServer((_req, res) => res.writeHead(307, { location: target.url }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = redirecting.address() as AddressInfo;
      const created = await m.buyer.client.must<{ webhookId: string }>("POST", "/webhooks", {
        url: `http://127.0.0.1:${port}/hooks`,
        types: ["credits.granted"],
      });
      await m.admin.must("POST", "/credits/grant", { userId: m.buyer.userId, amount: "1" });
      const deadline = Date.now() + 10_000;
      let deliveries: { status: string; attempts: number }[] = [];
      while (Date.now() < deadline && !deliveries.some((d) => d.attempts >= 2)) {
        ({ deliveries } = await m.buyer.client.must<{ deliveries: { status: string; attempts: number }[] }>(
          "GET",
          `/webhooks/${created.webhookId}/deliveries`,
        ));
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(deliveries[0]?.status).not.toBe("delivered");
      expect(target.attempts()).toBe(0);
    } finally {
      redirecting.close();
      target.server.close();
    }
  });

  it("delivers what was indexed before a crash, once the gateway is back", async () => {
    const hook = await receiver(0);
    try {
      await m.rival.client.must("POST", "/webhooks", { url: hook.url, types: ["credits.granted"] });
      // The gateway dies after indexing the grant and before its webhook loop ran.
      await m.gateway.services.webhooks.stop();
      await m.admin.must("POST", "/credits/grant", { userId: m.rival.userId, amount: "7", memo: "before the crash" });
      await m.gateway.services.indexer.catchUp();
      expect(hook.attempts()).toBe(0);
      await restartGateway(m);
      await until(
        async () => hook.received.map((r) => JSON.parse(r.body) as { data: { memo: string } }),
        (bodies) => bodies.some((b) => b.data.memo === "before the crash"),
        "the grant delivered after the restart",
      );
    } finally {
      hook.server.close();
    }
  });

  it("keeps a delivery whose every attempt failed as a dead letter, and sends it again on request", async () => {
    await restartGateway(m, { webhooks: { maxAttempts: 2, backoffMs: 50, allowInternalNetworks: true } });
    const hook = await receiver(2);
    try {
      const { webhookId } = await m.rival.client.must<{ webhookId: string }>("POST", "/webhooks", {
        url: hook.url,
        types: ["credits.granted"],
      });
      await m.admin.must("POST", "/credits/grant", { userId: m.rival.userId, amount: "3", memo: "dead letter" });
      type Deliveries = { deliveries: { notificationId: string; status: string; attempts: number }[] };
      const dead = await until(
        () => m.rival.client.must<Deliveries>("GET", `/webhooks/${webhookId}/deliveries?status=dead`),
        (answer) => answer.deliveries.length === 1,
        "a dead letter",
      );
      expect(dead.deliveries[0]).toMatchObject({ status: "dead", attempts: 2 });
      const notificationId = dead.deliveries[0]?.notificationId ?? "";
      await m.rival.client.must("POST", `/webhooks/${webhookId}/deliveries/${notificationId}/retry`);
      await until(
        () => m.rival.client.must<Deliveries>("GET", `/webhooks/${webhookId}/deliveries?status=delivered`),
        (answer) => answer.deliveries.some((d) => d.notificationId === notificationId),
        "the dead letter delivered on the retry",
      );
      expect(hook.received).toHaveLength(1);
      // Another's webhook is not theirs to see or retry.
      expect((await m.buyer.client.get(`/webhooks/${webhookId}/deliveries`)).status).toBe(404);
    } finally {
      hook.server.close();
    }
  });
});
