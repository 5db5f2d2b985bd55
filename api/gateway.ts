import { writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

import { parseEther, type JsonRpcProvider } from "ethers";

import {
  chainClock,
  createProvider,
  loadWallet,
  openDeployment,
  transactionDefaultsFor,
  type Deployment,
} from "../sdk/index.js";
import { silentLogger, type Logger } from "../sdk/log.js";
import { SealedBids } from "./bids/sealed-bids.js";
import { SealedReserves } from "./offers/sealed-reserves.js";
import { ChainBinding } from "./chain-binding.js";
import type { GatewaySettings } from "./config.js";
import { openGatewayDatabase } from "./db/migrations.js";
import { createApp } from "./http/app.js";
import { IdempotencyKeys, type TransactionOutcome } from "./http/idempotency.js";
import { loadMasterKey } from "./identity/secrets.js";
import { Users, type User } from "./identity/users.js";
import { SigningThread } from "./identity/signing.js";
import { Wallets, type GasAllowance } from "./identity/wallets.js";
import { Indexer, dropReadModel } from "./indexer/indexer.js";
import { Leadership } from "./leadership.js";
import { EventFeed } from "./notify/feed.js";
import { keeperGauges, operatorKeeper } from "./keeper.js";
import { NotificationStreams } from "./notify/streams.js";
import { ReadModelAnswers } from "./readmodel/answers.js";
import { Webhooks } from "./notify/webhooks.js";
import { apiRoutes } from "./routes/index.js";
import { type Services } from "./services.js";
import { chainTimeOf, sender } from "./transactions.js";

/** Behind by more blocks than this, the gateway reports itself not ready. */
const READY_LAG_BLOCKS = 5;
/** What a custodial account is topped up to on chains where gas costs something. */
const DEFAULT_GAS: GasAllowance = { minimumWei: parseEther("0.05"), targetWei: parseEther("0.5") };

export interface RunningGateway {
  url: string;
  services: Services;
  /** The first admin's API key, when this start created the first admin. */
  bootstrapApiKey: string | undefined;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** The master secret itself (tests); otherwise the settings' file or MARKET_MASTER_SECRET. */
  masterSecret?: string;
  /** Drop the read model and index the chain again from the deployment block. */
  rebuildReadModel?: boolean;
}

/**
 * Opens everything the gateway needs, starts the indexer and background work, and listens. Several
 * replicas may share one PostgreSQL database: all serve requests, and the background work runs on
 * whichever holds the leadership (see `Leadership`), while the others follow what it writes.
 */
export async function startGateway(settings: GatewaySettings, options: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? silentLogger;
  const provider = createProvider(settings.rpcUrl);
  const { deployment, contracts: market } = await openDeployment(provider, settings.deploymentsDir);
  const master = await loadMasterKey({
    file: settings.masterSecretFile,
    value: options.masterSecret ?? process.env.MARKET_MASTER_SECRET,
  });
  const db = await openGatewayDatabase(settings.database);
  const defaults = await transactionDefaultsFor(provider);
  const freeGas = defaults.type === 0 && defaults.gasPrice === 0n;

  const binding = await ChainBinding.open(db, provider);
  const users = await Users.open(db);
  const signing = new SigningThread();
  const wallets = await Wallets.open(db, master, provider, deployment, defaults, signing);
  const idempotency = new IdempotencyKeys(db, master, (txHash) => transactionOutcome(provider, txHash));
  const streams = new NotificationStreams(db, users);
  const webhooks = new Webhooks(db, users, master, settings.webhooks);
  if (options.rebuildReadModel === true) await dropReadModel(db);
  const indexer = new Indexer(db, provider, deployment, settings.indexer);
  await indexer.open();
  const { send, submit } = sender(wallets, indexer, binding, deployment, settings.indexer.confirmations);
  const clock = chainClock(provider, settings.chain.blockSeconds);
  const chainTime = chainTimeOf(clock);
  const bids = await SealedBids.open(
    {
      db,
      master,
      users,
      deployment,
      market,
      provider,
      clock,
      send,
      submit,
      logger,
      clearsRounds: !settings.keeper.enabled,
    },
    settings.bids.minCommitSecondsLeft,
  );
  const reserves = new SealedReserves({ db, master, users, deployment, market, clock, send, logger });
  const { operator, bootstrapApiKey } = await bootstrap(settings, users, wallets, deployment);

  const services: Services = {
    settings,
    db,
    provider,
    deployment,
    market,
    users,
    wallets,
    indexer,
    bids,
    reserves,
    streams,
    webhooks,
    operator,
    gas: freeGas ? { minimumWei: 0n, targetWei: 0n } : (settings.gas ?? DEFAULT_GAS),
    origin: settings.publicUrl ?? "",
    chainTime,
    clock,
    readModelTime: () => Math.max(indexer.status().indexedTime ?? 0, Math.floor(Date.now() / 1000)),
    answers: {
      timeslots: new ReadModelAnswers(() => indexer.generation()),
      audit: new ReadModelAnswers(() => indexer.generation()),
    },
    send,
  };

  // Notifications go out in chain order, one batch after another; closing waits for the last.
  const feed = new EventFeed(
    db,
    (events) => streams.publish(events),
    (error) => logger.error("notifications failed", { error }),
  );
  indexer.onEvents((events) => feed.push(events));
  const chainSilent = (error: unknown) => logger.warn("indexer: the chain did not answer; will try again", { error });
  const leadership = Leadership.of(db, settings.database, logger);
  // In this order: what the leader's work sends waits for the indexer, which is stopped last.
  leadership.leaderOnly({ name: "indexer", start: () => indexer.start(chainSilent), stop: () => indexer.stop() });
  leadership.leaderOnly({
    name: "sealed bids",
    start: () => bids.start(settings.bids.pollIntervalMs),
    stop: () => bids.stop(),
  });
  leadership.leaderOnly({
    name: "sealed reserves",
    start: () => reserves.start(settings.bids.pollIntervalMs),
    stop: () => reserves.stop(),
  });
  leadership.leaderOnly({ name: "webhooks", start: () => webhooks.start(), stop: () => webhooks.stop() });
  leadership.followerOnly({ name: "read model", start: () => indexer.follow(chainSilent), stop: () => indexer.stop() });
  leadership.followerOnly({
    name: "notification tail",
    start: () => feed.startTail(settings.indexer.pollIntervalMs),
    stop: () => feed.stopTail(),
  });
  const keeper = await operatorKeeper(services, logger);
  if (keeper !== undefined)
    leadership.leaderOnly({ name: "keeper", start: () => keeper.start(), stop: () => keeper.stop() });
  await leadership.start();

  const app = createApp({
    routes: apiRoutes,
    services,
    users,
    idempotency,
    logger,
    limits: settings.limits,
    async notReady() {
      const status = indexer.status();
      if (status.chainHead === undefined) return "the indexer has not reached the chain yet";
      if (status.lagBlocks > READY_LAG_BLOCKS) return `the read model is ${status.lagBlocks} blocks behind`;
      return undefined;
    },
    gauges: [
      {
        name: "indexer_lag_blocks",
        help: "Blocks the read model is behind the chain",
        read: () => indexer.status().lagBlocks,
      },
      {
        name: "indexer_indexed_block",
        help: "The last block in the read model",
        read: () => indexer.status().indexedBlock ?? 0,
      },
      {
        name: "indexer_reorgs_total",
        help: "Chain reorganisations this replica rolled back while it led",
        read: () => indexer.status().reorgs,
      },
      {
        name: "gateway_leader",
        help: "1 on the replica that does the background work (indexing, sealed bids, webhooks), else 0",
        read: () => (leadership.isLeader() ? 1 : 0),
      },
      ...keeperGauges(keeper),
    ],
  });
  const server = await listen(app, settings.host, settings.port);
  const { port } = server.address() as AddressInfo;
  const url = `http://${settings.host}:${port}`;
  services.origin = new URL(settings.publicUrl ?? url).origin;
  logger.info("gateway listening", { url, chainId: deployment.chainId, market: deployment.contracts.market });

  return {
    url,
    services,
    bootstrapApiKey,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      streams.close();
      await leadership.stop();
      await feed.close();
      await signing.close();
      provider.destroy();
      await db.close();
    },
  };
}

/**
 * At the first start, takes the operator's key into custody as the first admin's wallet and
 * issues the admin's API key (written to `apiKeyFile` when set). Afterwards, finds that admin.
 */
async function bootstrap(
  settings: GatewaySettings,
  users: Users,
  wallets: Wallets,
  deployment: Deployment,
): Promise<{ operator: string; bootstrapApiKey: string | undefined }> {
  const staff = (await users.list({})).filter((user: User) => user.roles.includes("admin") && user.custodial);
  const first = staff[0];
  if (first !== undefined) return { operator: first.address, bootstrapApiKey: undefined };
  const wallet = await loadWallet(settings.operatorKey);
  if (wallet.address.toLowerCase() !== deployment.admin.toLowerCase()) {
    throw new Error(
      `the operator key is ${wallet.address}, but the market's admin is ${deployment.admin}: give the admin's key`,
    );
  }
  const operator = await wallets.import(wallet.privateKey);
  const admin = await users.create({
    tenantId: null,
    name: "Marketplace operator",
    email: settings.bootstrapAdmin.email,
    roles: ["admin"],
    address: operator,
    custodial: true,
    password: settings.bootstrapAdmin.password,
  });
  const { token } = await users.issueApiKey(admin.userId, "bootstrap");
  if (settings.bootstrapAdmin.apiKeyFile !== undefined) {
    await writeFile(settings.bootstrapAdmin.apiKeyFile, `${token}\n`, { mode: 0o600, flag: "wx" });
  }
  return { operator, bootstrapApiKey: token };
}

/** Whether a transaction the gateway sent was mined, reverted, or is not known (yet) to the chain. */
async function transactionOutcome(provider: JsonRpcProvider, txHash: string): Promise<TransactionOutcome> {
  const receipt = await provider.getTransactionReceipt(txHash);
  if (receipt === null) return "unknown";
  return receipt.status === 1 ? "mined" : "reverted";
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once("listening", () => resolve(server));
    server.once("error", (error) =>
      reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error })),
    );
  });
}
