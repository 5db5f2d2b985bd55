import { HDNodeWallet, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Client, DEV_MNEMONIC, closeMarket, openMarket, withOwnWallet, type Market } from "./helpers.js";

interface Frame {
  id?: string;
  event?: string;
  data?: { id: string; type: string };
}

/** An open Server-Sent Events stream: the frames read so far, and whether the server ended it. */
interface OpenStream {
  frames: Frame[];
  ended: Promise<void>;
  close(): void;
}

async function openStream(base: string, token: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(`${base}/notifications/stream`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error("no stream");
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value);
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(text)?.[1];
        if (data === undefined) continue;
        frames.push({
          id: /^id: (.*)$/m.exec(text)?.[1],
          event: /^event: (.*)$/m.exec(text)?.[1],
          data: JSON.parse(data) as Frame["data"],
        });
      }
    }
  })();
  return { frames, ended, close: () => controller.abort() };
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return settled;
}

describe("who an account belongs to", () => {
  let m: Market;
  let tenantAdmin: Client;
  const operator = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/0");

  beforeAll(async () => {
    m = await openMarket();
    const created = await m.admin.must<{ apiKey: string }>("POST", `/tenants/${m.tenants.buyers}/users`, {
      name: "Tia Tenant-Admin",
      email: "tia@render.test",
      roles: ["tenantAdmin"],
    });
    tenantAdmin = m.admin.as(created.apiKey);
  });
  afterAll(() => closeMarket(m));

  const shadow = (email: string, extra: Record<string, unknown>) =>
    tenantAdmin.post<{ field?: string; status: number }>(`/tenants/${m.tenants.buyers}/users`, {
      name: "Shadow",
      email,
      roles: ["buyer"],
      ...extra,
    });

  it("refuses to bind an account without its owner's signature of a link challenge", async () => {
    const bare = await shadow("shadow1@render.test", { address: Wallet.createRandom().address });
    expect(bare.status).toBe(400);
    expect(bare.body.field).toBe("body.addressProof");

    // A proof signed by another wallet, or for another email, proves nothing.
    const target = Wallet.createRandom();
    const forged = await withOwnWallet(m.gateway.url, Wallet.createRandom(), { email: "shadow2@render.test" });
    const wrongSigner = await shadow("shadow2@render.test", { ...forged, address: target.address });
    expect(wrongSigner.status).toBe(400);
    expect(wrongSigner.body.field).toBe("body.addressProof");
    const otherEmail = await withOwnWallet(m.gateway.url, target, { email: "someone-else@render.test" });
    expect((await shadow("shadow3@render.test", { ...otherEmail, email: "shadow3@render.test" })).status).toBe(400);
  });

  it("refuses the operator's account, a custodial one and a removed user's, even with a valid proof", async () => {
    // The operator's key is the one the shadow user would read every tenant's audit trail with.
    const asOperator = await withOwnWallet(m.gateway.url, operator, { email: "shadow4@render.test" });
    const taken = await shadow("shadow4@render.test", asOperator);
    expect(taken.status).toBe(409);
    expect(taken.body.field).toBe("body.address");

    const wallet = Wallet.createRandom();
    const first = await tenantAdmin.must<{ user: { userId: string } }>(
      "POST",
      `/tenants/${m.tenants.buyers}/users`,
      await withOwnWallet(m.gateway.url, wallet, { name: "Wes", email: "wes@render.test", roles: ["buyer"] }),
    );
    await tenantAdmin.must("DELETE", `/users/${first.user.userId}`);
    const rebound = await shadow(
      "shadow5@render.test",
      await withOwnWallet(m.gateway.url, wallet, { email: "shadow5@render.test" }),
    );
    expect(rebound.status).toBe(409);

    const custodial = await m.buyer.client.must<{ user: { address: string } }>("GET", "/me");
    expect(custodial.user.address).toBe(m.buyer.address);
    const asBuyer = await shadow("shadow6@render.test", {
      address: m.buyer.address,
      addressProof: { message: "x", signature: `0x${"11".repeat(65)}` },
    });
    expect(asBuyer.status).toBe(409);
  });

  it("shows a buyer only their own account's events within their tenant", async () => {
    const events = await m.buyer.client.must<{ events: { args: Record<string, unknown> }[] }>(
      "GET",
      `/audit/events?account=${operator.address}&tenant=${m.tenants.rivals}&limit=1000`,
    );
    // The rival's grant, made by the operator, is the rival tenant's and not the buyer's business.
    const touched = events.events.map((event) => JSON.stringify(event.args).toLowerCase());
    expect(touched.some((args) => args.includes(m.rival.address))).toBe(false);
    expect(touched.some((args) => args.includes(m.buyer.address))).toBe(true);
  });

  it("names the gateway's own origin in wallet challenges, whatever the Host header says", async () => {
    const answer = await new Client(m.gateway.url).request<{ message: string }>(
      "POST",
      "/auth/wallet/challenge",
      { address: operator.address },
      { host: "evil.example" },
    );
    expect(answer.status).toBe(200);
    const origin = new URL(m.gateway.url);
    expect(answer.body.message.split("\n")[0]).toBe(`${origin.host} wants you to sign in with your Ethereum account:`);
    expect(answer.body.message).toContain(`URI: ${origin.origin}`);
  });

  it("answers a login for an unknown email as slowly as one with a wrong password", async () => {
    const time = async (email: string) => {
      const started = performance.now();
      const answer = await new Client(m.gateway.url).post("/auth/login", { email, password: "not-the-password" });
      expect(answer.status).toBe(401);
      return performance.now() - started;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time("bea@render.test"));
      unknown.push(await time(`nobody-${i}@render.test`));
    }
    // Both run scrypt: without the decoy the unknown email answered in a thirtieth of the time.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });
});

describe("revoking a credential", () => {
  let m: Market;

  beforeAll(async () => {
    m = await openMarket();
  });
  afterAll(() => closeMarket(m));

  it("ends the streams opened with a revoked API key at once, and keeps the others", async () => {
    const issued = await m.buyer.client.post<{ keyId: string; apiKey: string }>("/me/api-keys", { label: "stream" });
    // The one answer that shows the key is never kept by a cache.
    expect(issued.headers.get("cache-control")).toBe("no-store");
    const spare = issued.body;
    const revoked = await openStream(m.gateway.url, spare.apiKey);
    const kept = await openStream(m.gateway.url, m.buyer.client.token ?? "");
    await m.buyer.client.must("DELETE", `/me/api-keys/${spare.keyId}`);
    expect(await settlesWithin(revoked.ended, 2000)).toBe(true);
    expect(await settlesWithin(kept.ended, 300)).toBe(false);
    kept.close();
  });

  it("ends a removed user's streams and sessions", async () => {
    const created = await m.admin.must<{ apiKey: string; user: { userId: string } }>(
      "POST",
      `/tenants/${m.tenants.buyers}/users`,
      { name: "Leo Leaving", email: "leo@render.test", roles: ["buyer"], password: "leo-password" },
    );
    const login = await new Client(m.gateway.url).must<{ token: string }>("POST", "/auth/login", {
      email: "leo@render.test",
      password: "leo-password",
    });
    const byKey = await openStream(m.gateway.url, created.apiKey);
    const bySession = await openStream(m.gateway.url, login.token);
    await m.admin.must("DELETE", `/users/${created.user.userId}`);
    expect(await settlesWithin(Promise.all([byKey.ended, bySession.ended]), 2000)).toBe(true);
    expect((await m.admin.as(login.token).get("/me")).status).toBe(401);
  });

  it("resumes a stream from Last-Event-ID with what it missed", async () => {
    const live = await openStream(m.gateway.url, m.rival.client.token ?? "");
    for (const amount of ["1", "2", "3"]) {
      await m.admin.must("POST", "/credits/grant", { userId: m.rival.userId, amount });
    }
    const deadline = Date.now() + 10_000;
    while (live.frames.filter((f) => f.event === "credits.granted").length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    live.close();
    const granted = live.frames.filter((f) => f.event === "credits.granted");
    expect(granted).toHaveLength(3);
    expect(granted.every((f) => f.id === f.data?.id)).toBe(true);

    // Reconnecting after the first: the two after it come again, in order, and nothing before it.
    const resumed = await openStream(m.gateway.url, m.rival.client.token ?? "", {
      "last-event-id": granted[0]?.id ?? "",
    });
    const until = Date.now() + 10_000;
    while (resumed.frames.length < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    resumed.close();
    expect(resumed.frames.map((f) => f.id)).toEqual(granted.slice(1).map((f) => f.id));
  });
});
