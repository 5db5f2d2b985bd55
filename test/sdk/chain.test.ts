import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { network } from "hardhat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  ManagedSigner,
  MarketRevertError,
  attach,
  decodeRevertData,
  deployMarket,
  fetchEvents,
  openDeployment,
  readDeployment,
  withDecodedRevert,
  writeDeployment,
  type Deployment,
  type MarketContracts,
} from "../../sdk/index.js";

describe("SDK against a chain", () => {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let deployment: Deployment;
  let c: MarketContracts;
  let directory: string;

  beforeAll(async () => {
    connection = await network.create();
    const [admin] = await connection.ethers.getSigners();
    if (admin === undefined) throw new Error("no accounts");
    ({ deployment, contracts: c } = await deployMarket(admin));
    directory = await mkdtemp(join(tmpdir(), "deployments-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("writes a deployment file and reads the same deployment back", async () => {
    const path = await writeDeployment(deployment, directory);
    expect(path).toBe(join(directory, "31337.json"));
    expect(await readDeployment(31337, directory)).toEqual(deployment);
    expect(JSON.parse(await readFile(path, "utf8")).contracts.market).toBe(deployment.contracts.market);
  });

  it("opens the deployment of the chain a runner is connected to", async () => {
    await writeDeployment(deployment, directory);
    const opened = await openDeployment(connection.ethers.provider, directory);
    expect(opened.deployment).toEqual(deployment);
    expect(await opened.contracts.market.tenantCount()).toBe(await c.market.tenantCount());
  });

  it("refuses a deployment file whose contracts are not on the chain", async () => {
    const fresh = await network.create();
    await writeDeployment(deployment, directory);
    await expect(openDeployment(fresh.ethers.provider, directory)).rejects.toThrow(/not on this chain.*deploy again/);
  });

  it("refuses a missing or malformed deployment with a clear message", async () => {
    await expect(readDeployment(5, directory)).rejects.toThrow(/no deployment for chain 5/);
    await expect(
      writeDeployment({ ...deployment, contracts: { ...deployment.contracts, market: "0x12" } }, directory),
    ).rejects.toThrow(/not an address/);
  });

  it("decodes every event of a transaction into typed records with their chain position", async () => {
    const receipt = await (await c.market.createTenant("Decoded Ltd")).wait();
    const events = await fetchEvents(connection.ethers.provider, deployment, receipt?.blockNumber ?? 0);
    expect(events).toHaveLength(1);
    const [event] = events;
    if (event?.name !== "TenantCreated") throw new Error("expected TenantCreated");
    expect(event.contract).toBe("market");
    expect(event.args).toEqual({ tenantId: 1n, name: "Decoded Ltd", by: deployment.admin });
    expect(event.transactionHash).toBe(receipt?.hash);
    expect(event.logIndex).toBe(0);
  });

  it("decodes every event since deployment, whichever contract emitted it", async () => {
    const events = await fetchEvents(connection.ethers.provider, deployment, 0);
    const contracts = new Set(events.map((e) => e.contract));
    expect([...contracts].sort()).toEqual(["credits", "leases", "market", "nodes"]);
    expect(events.map((e) => e.name)).toContain("ContractsConnected");
    expect(events.filter((e) => e.name === "ProfileDefined")).toHaveLength(4);
  });

  it("turns a revert into a MarketRevertError naming the custom error and its arguments", async () => {
    const [, stranger] = await connection.ethers.getSigners();
    if (stranger === undefined) throw new Error("no accounts");
    const error = await withDecodedRevert(() => attach(deployment, stranger).market.createTenant("Nope")).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MarketRevertError);
    expect((error as MarketRevertError).revert.name).toBe("AccessControlUnauthorizedAccount");
    expect((error as MarketRevertError).revert.args.account).toBe(stranger.address);
    expect(decodeRevertData("0x08c379a0")).toBeUndefined();
  });

  it("sends many transactions at once from one account without nonce clashes", async () => {
    const [admin] = await connection.ethers.getSigners();
    if (admin === undefined) throw new Error("no accounts");
    const managed = attach(deployment, new ManagedSigner(admin));
    const before = await c.market.tenantCount();
    const sends = Array.from({ length: 25 }, (_, i) => managed.market.createTenant(`Concurrent ${i}`));
    const responses = await Promise.all(sends);
    const nonces = responses.map((r) => r.nonce);
    expect(new Set(nonces).size).toBe(25);
    expect(Math.max(...nonces) - Math.min(...nonces)).toBe(24);
    await Promise.all(responses.map((r) => r.wait()));
    expect(await c.market.tenantCount()).toBe(before + 25n);
  });

  it("recovers when another sender used the account's nonce meanwhile", async () => {
    const [admin] = await connection.ethers.getSigners();
    if (admin === undefined) throw new Error("no accounts");
    const signer = new ManagedSigner(admin);
    const managed = attach(deployment, signer);
    await (await managed.market.createTenant("First")).wait();
    await (await c.market.createTenant("Sent around the managed signer")).wait();
    const response = await managed.market.createTenant("After the clash");
    await response.wait();
    expect(response.nonce).toBe((await admin.getNonce()) - 1);
  });

  it("does not burn a nonce on a transaction that fails before it is sent", async () => {
    const [admin] = await connection.ethers.getSigners();
    if (admin === undefined) throw new Error("no accounts");
    const managed = attach(deployment, new ManagedSigner(admin));
    const next = await admin.getNonce("latest");
    await expect(managed.market.createTenant("")).rejects.toThrow();
    const response = await managed.market.createTenant("Still in order");
    expect(response.nonce).toBe(next);
    await response.wait();
  });
});
