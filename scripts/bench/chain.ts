/**
 * A local chain (Hardhat's EDR over JSON-RPC, automine) as a process of its own, for benchmarks
 * that must not serve their load from the chain's event loop. Listens on 127.0.0.1:`CHAIN_PORT`,
 * prints "ready", and runs until it is stopped.
 */
import { network } from "hardhat";

const port = Number(process.env.CHAIN_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error("set CHAIN_PORT to the port to listen on");
const server = await network.createServer("hardhat", "127.0.0.1", port);
await server.listen();
process.stdout.write("ready\n");
process.once("SIGTERM", () => void server.close());
await server.afterClosed();
