import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { HDNodeWallet, type JsonRpcProvider, type Signer } from "ethers";

import { gatewaySettingsSchema, type GatewaySettingsInput } from "../../api/config.js";
import { startGateway, type RunningGateway } from "../../api/gateway.js";
import { ManagedSigner, createProvider, deployMarket, writeDeployment, type Deployment } from "../../sdk/index.js";
import { serveLocalChain, type LocalChainOptions } from "../../scripts/lib/local-chain.js";
import { waitFor } from "../helpers/wait.js";

/** How long tests wait for the gateway's background work (reveals, clearing) to show. */
const BACKGROUND_WORK_MS = 20_000;

export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/** The default rounds; tests step through them by moving the chain's clock. */
export const TEST_SCHEDULE = { commitSeconds: 600, revealSeconds: 300, penaltyBps: 1000 };

/** A local chain over JSON-RPC with the market deployed, and a directory for the gateway's state. */
export interface Chain {
  rpcUrl: string;
  provider: JsonRpcProvider;
  deployment: Deployment;
  directory: string;
  operatorKey: string;
  /** Moves the chain's clock forward and mines a block there. */
  advance(seconds: number): Promise<void>;
  /** From now on, mines a block every `seconds` instead of one per transaction. */
  useBlockTimes(seconds: number): Promise<void>;
  now(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A local chain; `options` set its rules (e.g. Berlin, a QBFT network's block gas limit) and
 * override the test schedule's phases (round 1 still opens at once).
 */
export async function openChain(
  options: Omit<LocalChainOptions, "blockSeconds"> & { schedule?: Partial<typeof TEST_SCHEDULE> } = {},
): Promise<Chain> {
  const { schedule = {}, ...rules } = options;
  const server = await serveLocalChain("127.0.0.1", 0, rules);
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const provider = createProvider(rpcUrl);
  const operatorKey = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/0").privateKey;
  const deployer = new ManagedSigner(await provider.getSigner(0));
  // Round 1 opens now, so tests never meet the end of a commit window by chance.
  const genesis = (await provider.getBlock("latest"))?.timestamp ?? 0;
  const { deployment } = await deployMarket(deployer, { schedule: { ...TEST_SCHEDULE, ...schedule, genesis } });
  const directory = await mkdtemp(join(tmpdir(), "metalmarket-api-"));
  await writeDeployment(deployment, join(directory, "deployments"));
  return {
    rpcUrl,
    provider,
    deployment,
    directory,
    operatorKey,
    async advance(seconds) {
      await provider.send("evm_increaseTime", [seconds]);
      await provider.send("evm_mine", []);
    },
    async useBlockTimes(seconds) {
      await provider.send("evm_setAutomine", [false]);
      await provider.send("evm_setIntervalMining", [seconds * 1000]);
    },
    async now() {
      return (await provider.getBlock("latest"))?.timestamp ?? 0;
    },
    async close() {
      provider.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Gateway settings for `chain`, with its state in the chain's directory. */
export function gatewaySettings(chain: Chain, overrides: Partial<GatewaySettingsInput> = {}) {
  return gatewaySettingsSchema.parse({
    rpcUrl: chain.rpcUrl,
    deploymentsDir: join(chain.directory, "deployments"),
    database: join(chain.directory, "gateway.sqlite"),
    port: 0,
    operatorKey: { privateKey: chain.operatorKey },
    bootstrapAdmin: { email: "admin@example.test", password: "operator-password" },
    indexer: { pollIntervalMs: 50 },
    bids: { pollIntervalMs: 100 },
    // Test receivers listen on loopback, which a production gateway refuses to call.
    webhooks: { backoffMs: 100, allowInternalNetworks: true },
    // Tests move the chain's clock by hand and look at leases and bids in between; a keeper on a
    // clock of its own would settle them under their feet. Tests of the keeper turn it on.
    keeper: { enabled: false },
    ...overrides,
  });
}

export const MASTER_SECRET = randomBytes(32).toString("hex");

export async function openGateway(
  chain: Chain,
  overrides: Partial<GatewaySettingsInput> = {},
): Promise<RunningGateway> {
  return startGateway(gatewaySettings(chain, overrides), { masterSecret: MASTER_SECRET });
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A client of the gateway's API with one credential, speaking real HTTP. */
export class Client {
  constructor(
    readonly base: string,
    readonly token?: string,
  ) {}

  as(token: string): Client {
    return new Client(this.base, token);
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const response = await fetch(this.base + path, {
      method,
      headers: {
        ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    const parsed = /application\/(problem\+)?json/.test(type) && text !== "" ? (JSON.parse(text) as T) : (text as T);
    return { status: response.status, headers: response.headers, body: parsed };
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.request<T>("GET", path);
  }

  post<T = Record<string, unknown>>(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body, headers);
  }

  /** POSTs and insists on a 2xx answer, so a setup step that fails says why. */
  async must<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request<T>(method, path, body);
    if (answer.status >= 300) {
      throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }
}

/**
 * A new user's body that binds `wallet` as their own account, with the wallet's proof of control:
 * its signature of a `link` challenge for `body.email`.
 */
export async function withOwnWallet(
  gatewayUrl: string,
  wallet: Signer,
  body: { email: string } & Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const address = await wallet.getAddress();
  const { message } = await new Client(gatewayUrl).must<{ message: string }>("POST", "/auth/wallet/challenge", {
    address,
    purpose: "link",
    email: body.email,
  });
  return { ...body, address, addressProof: { message, signature: await wallet.signMessage(message) } };
}

export const AGENT = "0x00000000000000000000000000000000000000aa";
export const NODE = { cores: 16, memoryGiB: 64, storageGB: 1000, networkGbps: 10, gpus: 0, arch: 1 };
export const SMALL_NODE = { cores: 2, memoryGiB: 4, storageGB: 100, networkGbps: 1, gpus: 0, arch: 1 };

interface CreatedUser {
  apiKey: string;
  user: { userId: string; address: string; tenantId: number | null };
}

/** A user as the tests hold them: their client and who they are. */
export interface Member {
  client: Client;
  userId: string;
  address: string;
}

/**
 * A market set up through the API: an operator (`admin`), an `auditor`, a provider tenant whose
 * `seller` (provider and tenant admin) has a big and a small node, and two buyer tenants
 * (`buyer`, `rival`) with 1000 credits each.
 */
export interface Market {
  chain: Chain;
  gateway: RunningGateway;
  admin: Client;
  auditor: Member;
  seller: Member;
  buyer: Member;
  rival: Member;
  tenants: { provider: number; buyers: number; rivals: number };
  nodes: { big: number; small: number };
  /** The next whole hour on the chain's clock. */
  hour: number;
}

export async function openMarket(chain?: Chain, overrides: Partial<GatewaySettingsInput> = {}): Promise<Market> {
  const c = chain ?? (await openChain());
  const gateway = await openGateway(c, overrides);
  const admin = new Client(gateway.url, gateway.bootstrapApiKey);
  const tenant = async (name: string) =>
    (await admin.must<{ tenant: { tenantId: number } }>("POST", "/tenants", { name })).tenant.tenantId;
  const member = async (path: string, body: Record<string, unknown>): Promise<Member> => {
    const created = await admin.must<CreatedUser>("POST", path, body);
    return { client: admin.as(created.apiKey), userId: created.user.userId, address: created.user.address };
  };
  const tenants = {
    provider: await tenant("Rack Owners"),
    buyers: await tenant("Render Farm"),
    rivals: await tenant("Climate Lab"),
  };
  const seller = await member(`/tenants/${tenants.provider}/users`, {
    name: "Sam Seller",
    email: "sam@racks.test",
    roles: ["provider", "tenantAdmin"],
    password: "sam-password",
  });
  const buyer = await member(`/tenants/${tenants.buyers}/users`, {
    name: "Bea Buyer",
    email: "bea@render.test",
    roles: ["buyer"],
    password: "bea-password",
  });
  const rival = await member(`/tenants/${tenants.rivals}/users`, {
    name: "Ray Rival",
    email: "ray@climate.test",
    roles: ["buyer"],
  });
  const auditor = await member("/users", { name: "Ada Auditor", email: "ada@audit.test", roles: ["auditor"] });
  for (const who of [buyer, rival]) await admin.must("POST", "/credits/grant", { userId: who.userId, amount: "1000" });
  const node = async (resources: typeof NODE) =>
    (await seller.client.must<{ node: { nodeId: number } }>("POST", "/nodes", { resources, agent: AGENT })).node.nodeId;
  const nodes = { big: await node(NODE), small: await node(SMALL_NODE) };
  const hour = Math.ceil((await c.now()) / 3600) * 3600 + 3600;
  return { chain: c, gateway, admin, auditor, seller, buyer, rival, tenants, nodes, hour };
}

export async function closeMarket(market: Market): Promise<void> {
  await market.gateway.close();
  await market.chain.close();
}

/** Lists an offer on `nodeId` from `start` for a day of hour slices, with `terms` overriding. */
export async function listOffer(
  market: Market,
  terms: Record<string, unknown> & { nodeId: number; start: number },
): Promise<number> {
  const { offer } = await market.seller.client.must<{ offer: { offerId: number } }>("POST", "/offers", {
    end: terms.start + 24 * 3600,
    sliceSeconds: 3600,
    maxSlices: 4,
    model: "fixed",
    pricePerHour: "2",
    ...terms,
  });
  return offer.offerId;
}

/**
 * Stops the market's gateway, runs `whileStopped` (e.g. moving the chain's clock), and starts a
 * new gateway process's worth of state from the same database; every client follows it.
 */
export async function restartGateway(
  m: Market,
  overrides: Partial<GatewaySettingsInput> = {},
  whileStopped: () => Promise<void> = async () => undefined,
): Promise<void> {
  await m.gateway.close();
  await whileStopped();
  m.gateway = await openGateway(m.chain, overrides);
  m.admin = new Client(m.gateway.url, m.admin.token);
  for (const member of [m.auditor, m.seller, m.buyer, m.rival])
    member.client = new Client(m.gateway.url, member.client.token);
}

/** Reads until `done` holds (20 s at most), for what the gateway does in the background. */
export function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  return waitFor(
    what,
    async () => {
      const value = await read();
      return done(value) ? value : undefined;
    },
    BACKGROUND_WORK_MS,
  );
}

/** Reads Server-Sent Events from `url` until `count` events named `name` arrived. */
export async function readEvents(url: string, token: string, name: string, count: number, opened: () => Promise<void>) {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    throw new Error(`${url} answered ${response.status} ${response.headers.get("content-type")}, not an event stream`);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error("no stream");
  await opened();
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let buffer = "";
  const decoder = new TextDecoder();
  while (events.filter((e) => e.event === name).length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value);
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event !== undefined && data !== undefined)
        events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
  }
  controller.abort();
  return events;
}
