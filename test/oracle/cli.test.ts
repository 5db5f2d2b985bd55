import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

import { HDNodeWallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { SimulatedBmc } from "../../oracle/bmc-sim/bmc.js";
import type { BmcFleet } from "../../oracle/bmc-sim/fleet.js";
import { Arch, LeaseStatus, attach, loadWallet } from "../../sdk/index.js";
import { BMC_PASSWORD, BMC_USER, LEASE_IMAGE, WIPE_IMAGE, startFleet } from "../helpers/agent.js";
import { bookCurrentSlice, openLocalMarket, type LocalMarket } from "../../scripts/lib/local-market.js";
import { fieldsOf } from "../helpers/world.js";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../scripts/market.js");

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

type Outcome = { code: number; stdout: string; stderr: string };

/** Runs `market ...`; answers its exit code and output, failing or not. */
async function runMarket(env: Record<string, string>, args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as Outcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const market = Object.assign((...args: string[]) => runMarket({}, args), {
  withEnv:
    (env: Record<string, string>) =>
    (...args: string[]) =>
      runMarket(env, args),
});

describe("the market CLI's Redfish and agent commands", () => {
  let world: LocalMarket;
  let fleet: BmcFleet;
  let bmc: SimulatedBmc;
  let passwordFile: string;
  const provision = (powerTimeout: string) =>
    market("redfish", "provision", ...bmcFlags(), "--image", LEASE_IMAGE, "--power-timeout", powerTimeout);
  const chainFlags = () => ["--rpc", world.rpcUrl, "--deployments", join(world.directory, "deployments")];
  const bmcFlags = () => [
    "--bmc",
    bmc.url,
    "--user",
    BMC_USER,
    "--password-file",
    passwordFile,
    "--system",
    bmc.systemId,
  ];

  beforeAll(async () => {
    world = await openLocalMarket();
    fleet = await startFleet(1, {
      behaviour: { powerTransitionMs: 20 },
      hardware: () => ({ sockets: 2, coresPerSocket: 16, memoryGiB: 512, disksGB: [3840], nicSpeedMbps: 100_000 }),
    });
    bmc = fleet.bmc(0);
    passwordFile = join(world.directory, "bmc.password");
    await writeFile(passwordFile, `${BMC_PASSWORD}\n`, { mode: 0o600 });
  });

  afterAll(async () => {
    await fleet?.close();
    await world?.close();
  });

  it("provisions a machine and prints each step, the power state and the boot settings", async () => {
    bmc.setState({ power: "On", image: "https://images.example/old.iso" });
    const { code, stdout } = await provision("5");
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.ok).toBe(true);
    expect(
      summary.steps.map((s: { step: string; result: string; status?: number }) => [s.step, s.result, s.status]),
    ).toEqual([
      ["power-off", "done", 204],
      ["eject-media", "done", 204],
      ["insert-image", "done", 204],
      ["boot-once-cd", "done", 200],
      ["power-on", "done", 204],
    ]);
    expect(summary.powerState).toBe("On");
    expect(summary.virtualMedia).toMatchObject({ image: LEASE_IMAGE, inserted: true });
    expect(bmc.boots.at(-1)).toEqual({ target: "Cd", image: LEASE_IMAGE });
    expect(stdout).not.toContain(BMC_PASSWORD);
  });

  it("releases a machine through its wipe image", async () => {
    const { code, stdout } = await market(
      "redfish",
      "release",
      ...bmcFlags(),
      "--wipe-image",
      WIPE_IMAGE,
      "--wipe-timeout",
      "0.05",
    );
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.steps.map((s: { step: string }) => s.step)).toEqual([
      "power-off",
      "eject-media",
      "insert-wipe-image",
      "boot-once-cd",
      "power-on-wipe",
      "wipe",
      "power-off-after-wipe",
      "eject-wipe-image",
    ]);
    expect(summary.powerState).toBe("Off");
    expect(bmc.boots.at(-1)).toEqual({ target: "Cd", image: WIPE_IMAGE });
  });

  it("exits non-zero with a summary of the failed step when the BMC refuses", async () => {
    bmc.faults = { stuckPower: true };
    bmc.setState({ power: "Off" });
    const { code, stdout } = await provision("0.2");
    bmc.faults = {};
    expect(code).toBe(1);
    const failed = JSON.parse(stdout).steps.at(-1);
    expect(failed).toMatchObject({ step: "power-on", result: "failed" });
    expect(failed.error).toMatch(/power stayed Off/);
  });

  it("says clearly when the password is wrong, without echoing it", async () => {
    const { code, stderr } = await market(
      "redfish",
      "inventory",
      "--bmc",
      bmc.url,
      "--user",
      BMC_USER,
      "--password",
      "hunter2-wrong",
    );
    expect(code).toBe(1);
    // The refused login is followed by one try with Basic, as sushy does; both refusals are named.
    expect(stderr).toMatch(
      /^market: GET \/redfish\/v1\/Systems answered 401: .*refused the session login too \(401\): check the credentials/,
    );
    expect(stderr).not.toContain("hunter2-wrong");
  });

  it("refuses to enroll for an account that is no provider, and prints the profile on a dry run", async () => {
    const { code, stdout, stderr } = await market(
      "agent",
      "enroll",
      ...bmcFlags(),
      ...chainFlags(),
      "--keystore",
      world.agent.keystore,
      "--key-password-file",
      world.agent.passwordFile,
      "--agent",
      world.agent.address,
    );
    // The agent account is no provider: the market says so by name.
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/NotActiveMember/);

    const dry = JSON.parse((await market("agent", "enroll", ...bmcFlags(), "--dry-run")).stdout);
    expect(dry.resources).toEqual({
      cores: 32,
      memoryGiB: 512,
      storageGB: 3840,
      networkGbps: 100,
      gpus: 0,
      arch: Arch.X86_64,
    });
    expect(dry.attributes).toBe("vendor=Contoso;model=3500;threads=64;nics=2");
    expect(code).toBe(1);
    expect(stdout).toBe("");
  });

  it("registers the node when a provider signs, naming the agent that will operate it", async () => {
    const seller = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
    const { code, stdout, stderr } = await market.withEnv({ MARKET_PRIVATE_KEY: seller.privateKey })(
      "agent",
      "enroll",
      ...bmcFlags(),
      ...chainFlags(),
      "--agent",
      world.agent.address,
      "--calendar-unit",
      "300",
    );
    expect(code, stderr).toBe(0);
    const enrolled = JSON.parse(stdout);
    const node = await world.seller.nodes.node(enrolled.nodeId);
    expect(node.provider).toBe(seller.address);
    expect(node.calendarUnit).toBe(300n);
    expect(await world.seller.nodes.agentOf(enrolled.nodeId)).toBe(world.agent.address);
    expect(fieldsOf(node.resources)).toMatchObject({
      cores: 32n,
      memoryGiB: 512n,
      storageGB: 3840n,
      networkGbps: 100n,
    });
    expect(await world.seller.nodes.attributesOf(enrolled.nodeId)).toBe("vendor=Contoso;model=3500;threads=64;nics=2");
  });

  it("reports a lease wiped for an operator who wiped its node by hand, signed by the agent's key", async () => {
    const nodeId = await world.registerNode();
    const leaseId = await bookCurrentSlice(world, nodeId, LEASE_IMAGE);
    const agentKey = ["--keystore", world.agent.keystore, "--key-password-file", world.agent.passwordFile];
    const agent = attach(
      world.deployment,
      await loadWallet({ keystore: world.agent.keystore, passwordFile: world.agent.passwordFile }, world.provider),
    );
    await world.send(agent.leases.reportFailed(leaseId, "wipe failed"));
    expect(await world.seller.leases.unwipedLeaseOf(nodeId)).toBe(BigInt(leaseId));

    // Only the node's agent reports on its leases: the provider's own key is refused.
    const seller = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
    const refused = await market.withEnv({ MARKET_PRIVATE_KEY: seller.privateKey })(
      "agent",
      "report-cleaned",
      String(leaseId),
      ...chainFlags(),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UnauthorizedCaller/);
    const { code, stdout, stderr } = await market(
      "agent",
      "report-cleaned",
      String(leaseId),
      ...chainFlags(),
      ...agentKey,
    );
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ leaseId });
    expect(await world.seller.leases.unwipedLeaseOf(nodeId)).toBe(0n);
    expect((await world.seller.leases.leaseOf(leaseId)).status).toBe(BigInt(LeaseStatus.Cleaned));
  });
});
