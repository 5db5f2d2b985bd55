import { spawn } from "node:child_process";
import { join } from "node:path";

import { HDNodeWallet, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { bookCurrentSlice, openLocalMarket, type LocalMarket } from "../../scripts/lib/local-market.js";
import { EndReason, LeaseStatus } from "../../sdk/index.js";
import { waitFor } from "../helpers/wait.js";

const CLI = join(import.meta.dirname, "../../scripts/market.js");
/** A development account that is nobody in the market: the keeper's calls are anyone's to make. */
const KEEPER_KEY = HDNodeWallet.fromPhrase(
  "test test test test test test test test test test test junk",
  undefined,
  "m/44'/60'/0'/0/7",
).privateKey;

describe("market keeper run", () => {
  let world: LocalMarket;

  beforeAll(async () => {
    world = await openLocalMarket();
  });
  afterAll(() => world?.close());

  it("refunds a lease its agent never provisioned, as a process against a JSON-RPC chain, until Ctrl-C", async () => {
    const leaseId = await bookCurrentSlice(world, await world.registerNode(), "https://images.example/os.iso");
    const keeper = spawn(
      process.execPath,
      [
        CLI,
        "keeper",
        "run",
        "--rpc",
        world.rpcUrl,
        "--deployments",
        join(world.directory, "deployments"),
        "--interval",
        "0.05",
      ],
      { env: { ...process.env, MARKET_PRIVATE_KEY: KEEPER_KEY } },
    );
    let stdout = "";
    let stderr = "";
    keeper.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    keeper.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => keeper.once("exit", resolve));
    try {
      await waitFor("the keeper to start", () => stdout.includes("keeper running as"), 30_000);
      expect(stdout).toContain(new Wallet(KEEPER_KEY).address);

      // The agent never reports: the grace passes.
      await world.provider.send("evm_increaseTime", [world.deployment.provisionGraceSeconds + 60]);
      await world.provider.send("evm_mine", []);
      await waitFor(
        "the refund",
        async () => (await world.seller.leases.leaseOf(leaseId)).status === BigInt(LeaseStatus.Ended),
      );
      expect((await world.seller.leases.leaseOf(leaseId)).endReason).toBe(BigInt(EndReason.TimedOut));
      await waitFor("the log line", () => stderr.includes("keeper: refunded a lease"));
      expect(JSON.parse(stderr.split("\n").find((line) => line.includes("refunded a lease")) ?? "{}")).toMatchObject({
        level: "info",
        leaseId,
        reason: "TimedOut",
      });
    } finally {
      keeper.kill("SIGINT");
    }
    expect(await exit, stderr).toBe(0);
    expect(stdout).toMatch(/keeper stopped: forfeited 0, settled 0, refunded 1, cleared 0/);
  });
});
