import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runGateway, stopGateway, type GatewayProcess } from "../helpers/gateway-process.js";
import { postgresBin, startPostgres, type TemporaryPostgres } from "../helpers/postgres.js";
import { waitFor } from "../helpers/wait.js";
import { Client, MASTER_SECRET, listOffer, openChain, openMarket, readEvents, until, type Market } from "./helpers.js";

/** The reveal phase: a real deadline for the takeover and the reveals after it, yet short. */
const REVEAL_SECONDS = 30;
/** Blocks come on their own, every second, once the market is set up: transactions wait for them. */
const BLOCK_SECONDS = 1;

interface Bid {
  bidRef: string;
  state: string;
  revealOpensAt: string;
  revealClosesAt: string;
}

const bin = postgresBin();

describe.skipIf(bin === undefined && process.env.CI === undefined)("two gateway replicas on one PostgreSQL", () => {
  let postgres: TemporaryPostgres;
  let m: Market;
  let config: string;
  let auction: number;
  let start: number;
  const replicas: GatewayProcess[] = [];

  beforeAll(async () => {
    if (bin === undefined) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
    postgres = await startPostgres(bin);
    // Set up through a gateway in this process, on the database the replicas then share.
    m = await openMarket(await openChain({ schedule: { revealSeconds: REVEAL_SECONDS } }), { database: postgres.url });
    start = m.hour + 2 * 3600;
    auction = await listOffer(m, { nodeId: m.nodes.big, start, model: "auction", pricePerHour: "1" });
    await m.gateway.close();
    const secretFile = join(m.chain.directory, "master.secret");
    await writeFile(secretFile, MASTER_SECRET, { mode: 0o600 });
    // One settings file for both replicas: same database, master secret and chain.
    config = join(m.chain.directory, "replica.json");
    await writeFile(
      config,
      JSON.stringify({
        rpcUrl: m.chain.rpcUrl,
        deploymentsDir: join(m.chain.directory, "deployments"),
        database: postgres.url,
        masterSecretFile: secretFile,
        port: 0,
        operatorKey: { privateKey: m.chain.operatorKey },
        indexer: { pollIntervalMs: 100 },
        bids: { pollIntervalMs: 100 },
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => stopGateway(replica)));
    await m?.chain.close();
    await postgres?.stop();
  });

  it("both serve; when the leader is killed in a reveal window, the other reveals and clears every bid", async () => {
    const a = await runGateway(config);
    replicas.push(a);
    const b = await runGateway(config);
    replicas.push(b);
    const client = (replica: GatewayProcess, who: Client) => new Client(replica.url, who.token);
    const leads = async (replica: GatewayProcess) => {
      const metrics = await client(replica, m.auditor.client).request<string>("GET", "/metrics");
      return /^gateway_leader (\d)$/m.exec(metrics.body)?.[1] === "1";
    };
    expect([await leads(a), await leads(b)]).toEqual([true, false]);
    for (const replica of [a, b]) expect((await fetch(`${replica.url}/readyz`)).status).toBe(200);

    await m.chain.useBlockTimes(BLOCK_SECONDS);

    // The follower writes, answers with its write already in the read model the leader indexes,
    // and streams the notification to its own client.
    const buyerOnB = client(b, m.buyer.client);
    const granted = await readEvents(
      `${b.url}/notifications/stream`,
      m.buyer.client.token ?? "",
      "credits.granted",
      1,
      async () => {
        await client(b, m.admin).must("POST", "/credits/grant", { userId: m.buyer.userId, amount: "5" });
        expect(await buyerOnB.must("GET", "/credits/balance")).toMatchObject({ available: "1005" });
      },
    );
    expect(granted.find((e) => e.event === "credits.granted")?.data).toMatchObject({ data: { amount: "5" } });

    // Bids through both replicas: the buyer outbids the rival on two slices.
    const bid = (replica: GatewayProcess, who: Client, slice: number, price: number) =>
      client(replica, who).must<Bid>("POST", "/bids", {
        offerId: auction,
        start: start + slice * 3600,
        duration: 60,
        pricePerHour: String(price),
      });
    const bids = await Promise.all([
      bid(a, m.buyer.client, 0, 3),
      bid(a, m.buyer.client, 1, 3),
      bid(b, m.rival.client, 0, 2),
      bid(b, m.rival.client, 1, 2),
    ]);
    expect(bids.map((placed) => placed.state)).toEqual(["committed", "committed", "committed", "committed"]);

    // Into the reveal window; the leader is killed as soon as its first reveal is on the wire.
    const [first] = bids;
    if (first === undefined) throw new Error("no bid placed");
    const opensAt = Date.parse(first.revealOpensAt) / 1000;
    const closesAt = Date.parse(first.revealClosesAt) / 1000;
    await m.chain.advance(opensAt - (await m.chain.now()));
    await waitFor(
      "the leader's first reveal",
      async () =>
        ((await m.chain.provider.send("eth_getBlockByNumber", ["pending", false])) as { transactions: string[] })
          .transactions.length > 0,
      10_000,
    );
    a.child.kill("SIGKILL");
    await a.exit;
    const admin = client(b, m.admin);
    const states = async () => (await admin.must<{ bids: Bid[] }>("GET", "/bids?all=true")).bids.map((x) => x.state);
    expect(await states()).toContain("committed");

    // PostgreSQL frees the lock as the dead leader's socket closes; the follower claims it within a second.
    await waitFor("the follower to take over", () => leads(b), 5000);
    await until(states, (now) => now.every((state) => state === "revealed"), "every bid revealed");
    expect(await m.chain.now()).toBeLessThan(closesAt);

    await m.chain.advance(closesAt - (await m.chain.now()));
    const cleared = await until(
      () => admin.must<{ bids: Bid[] }>("GET", "/bids?all=true"),
      ({ bids: all }) => all.every((x) => x.state === "matched" || x.state === "unmatched"),
      "clearing",
    );
    const stateOf = new Map(cleared.bids.map((x) => [x.bidRef, x.state]));
    expect(bids.map((placed) => stateOf.get(placed.bidRef))).toEqual(["matched", "matched", "unmatched", "unmatched"]);
    expect(await stopGateway(b)).toBe(0);
  });
});
