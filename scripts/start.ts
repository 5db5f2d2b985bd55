/**
 * `npm start`: a local chain (Hardhat's EDR as a JSON-RPC server on 127.0.0.1:8545), the market
 * deployed on it over real HTTP, and a summary of where everything is. Ctrl-C stops it.
 * MARKET_RPC_PORT moves the chain; MARKET_* deployment settings apply as for `npm run deploy`.
 */
import { network } from "hardhat";

import { ManagedSigner, createProvider, deployMarket, writeDeployment } from "../sdk/index.js";
import { deploySettingsFromEnv, describeDeployment, summaryLine } from "./lib/deploy-settings.js";

const HOST = "127.0.0.1";
const DEFAULT_PORT = 8545;

const port = Number(process.env.MARKET_RPC_PORT ?? DEFAULT_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65_535)
  throw new Error(`MARKET_RPC_PORT must be a TCP port, not ${process.env.MARKET_RPC_PORT}`);
const options = deploySettingsFromEnv(process.env);

const server = await network.createServer("hardhat", HOST, port);
try {
  await server.listen();
} catch (error) {
  throw new Error(`cannot listen on ${HOST}:${port} (is another chain running? set MARKET_RPC_PORT)`, { cause: error });
}
const rpcUrl = `http://${HOST}:${port}`;

const provider = createProvider(rpcUrl);
const deployer = new ManagedSigner(await provider.getSigner(0));
const { deployment } = await deployMarket(deployer, options);
const path = await writeDeployment(deployment);

console.log(
  [
    "Metalmarket is running.",
    summaryLine("chain", `${rpcUrl} (Hardhat EDR, automine)`),
    describeDeployment(deployment),
    summaryLine("file", path),
    summaryLine("operator", `${deployment.admin} (the chain's first development account)`),
    "Press Ctrl-C to stop.",
  ].join("\n"),
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the chain`);
  provider.destroy();
  await server.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
await server.afterClosed();
