/**
 * The market must run on Quorum-family chains (GoQuorum, Besu with QBFT): London rules, no fee
 * market, a zero gas price and legacy transactions, and none of the opcodes those chains lack.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

import { network } from "hardhat";
import { describe, expect, it } from "vitest";

import { accounts } from "../helpers/world.js";
import { ManagedSigner, attach, deployMarket, leaseCost, parseCredits, sealBid } from "../../sdk/index.js";

/** Opcodes Quorum-family chains on London rules do not have, or that the design rules out. */
const FORBIDDEN: Record<number, string> = {
  0x5f: "PUSH0",
  0x5e: "MCOPY",
  0x5c: "TLOAD",
  0x5d: "TSTORE",
  0x48: "BASEFEE",
  0x44: "PREVRANDAO",
  0x49: "BLOBHASH",
  0x4a: "BLOBBASEFEE",
};
const PUSH1 = 0x60;
const PUSH32 = 0x7f;

/** The opcodes of runtime `code`, skipping PUSH data and the trailing CBOR metadata. */
function opcodes(code: string): number[] {
  const bytes = Buffer.from(code.replace(/^0x/, ""), "hex");
  const metadataLength = bytes.length >= 2 ? bytes.readUInt16BE(bytes.length - 2) + 2 : 0;
  const end = metadataLength < bytes.length ? bytes.length - metadataLength : bytes.length;
  return walk(bytes, end);
}

/**
 * The opcodes of the constructor part of creation `code`: it is followed by a copy of the runtime
 * code and, with via-IR, data sections, none of which are instructions.
 */
function initOpcodes(creation: string, runtime: string): number[] {
  const bytes = Buffer.from(creation.replace(/^0x/, ""), "hex");
  const runtimeHead = Buffer.from(runtime.replace(/^0x/, "").slice(0, 128), "hex");
  const runtimeAt = runtimeHead.length > 0 ? bytes.indexOf(runtimeHead) : -1;
  return walk(bytes, runtimeAt > 0 ? runtimeAt : bytes.length);
}

function walk(bytes: Buffer, end: number): number[] {
  const ops: number[] = [];
  for (let i = 0; i < end; i += 1) {
    const op = bytes[i] as number;
    ops.push(op);
    if (op >= PUSH1 && op <= PUSH32) i += op - PUSH1 + 1;
  }
  return ops;
}

async function artifactFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return artifactFiles(path);
      return Promise.resolve(entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json") ? [path] : []);
    }),
  );
  return nested.flat();
}

describe("Quorum compatibility", () => {
  it("has no PUSH0, MCOPY, transient storage, BASEFEE or PREVRANDAO in any contract", async () => {
    const files = await artifactFiles("artifacts/contracts");
    const found: string[] = [];
    let scanned = 0;
    for (const file of files) {
      const artifact = JSON.parse(await readFile(file, "utf8")) as {
        contractName?: string;
        bytecode?: string;
        deployedBytecode?: string;
      };
      const { bytecode = "0x", deployedBytecode = "0x" } = artifact;
      if (deployedBytecode.length <= 2) continue;
      scanned += 1;
      for (const op of [...opcodes(deployedBytecode), ...initOpcodes(bytecode, deployedBytecode)]) {
        if (FORBIDDEN[op] !== undefined) found.push(`${artifact.contractName}: ${FORBIDDEN[op]}`);
      }
    }
    expect(scanned).toBeGreaterThanOrEqual(5);
    expect([...new Set(found)]).toEqual([]);
  });

  it("finds PUSH0 when it is there, so the scan can fail", () => {
    expect(opcodes("0x5f00").includes(0x5f)).toBe(true);
    expect(opcodes("0x605f00").includes(0x5f)).toBe(false);
  });

  it("runs the whole flow on London rules with zero gas price and legacy transactions", async () => {
    const connection = await network.create("quorumSimulated");
    const { ethers, networkHelpers } = connection;
    const [adminSigner, sellerSigner, agentSigner, buyerSigner] = await accounts(connection, 4);
    const legacy = { type: 0, gasPrice: 0n } as const;
    const [admin, seller, agent, buyer] = [adminSigner, sellerSigner, agentSigner, buyerSigner].map(
      (s) => new ManagedSigner(s, legacy),
    ) as [ManagedSigner, ManagedSigner, ManagedSigner, ManagedSigner];
    const ethBefore = await ethers.provider.getBalance(buyerSigner.address);
    const sent: string[] = [];
    const send = async (tx: Promise<{ hash: string; wait: () => Promise<unknown> }>) => {
      const response = await tx;
      sent.push(response.hash);
      await response.wait();
    };

    const { deployment, contracts: c } = await deployMarket(admin);
    const as = (s: ManagedSigner) => attach(deployment, s);
    await send(c.market.createTenant("Provider"));
    await send(c.market.createTenant("Buyer"));
    await send(c.market.addMember(1, sellerSigner.address, 4));
    await send(c.market.addMember(2, buyerSigner.address, 2));
    await send(c.credits.grant(buyerSigner.address, parseCredits("100"), "start"));
    await send(as(buyer).credits["transferAndCall(address,uint256)"](deployment.contracts.market, parseCredits("100")));
    await send(
      as(seller).nodes.registerNode(
        { cores: 8, memoryGiB: 32, storageGB: 500, networkGbps: 10, gpus: 0, arch: 1 },
        60,
        agentSigner.address,
        "",
      ),
    );
    const now = await networkHelpers.time.latest();
    const start = Math.ceil(now / 3600) * 3600 + 7200;
    const offer = {
      nodeId: 1,
      start,
      end: start + 8 * 3600,
      sliceSeconds: 3600,
      minSlices: 1,
      maxSlices: 2,
      fromHour: 0,
      toHour: 0,
      pricePerHour: parseCredits("2"),
      surgeBps: 0,
      sealedReserve: `0x${"00".repeat(32)}`,
    };
    await send(as(seller).offers.createOffer({ ...offer, model: 0 }));
    await send(as(seller).offers.createOffer({ ...offer, model: 2, pricePerHour: parseCredits("1") }));
    await send(as(buyer).offers.bookInstant(1, start, 1, parseCredits("2"), 0, "https://img/os.iso"));

    const round = Number(await c.market.currentRound());
    const bid = sealBid(
      { chainId: deployment.chainId, market: deployment.contracts.market },
      buyerSigner.address,
      {
        roundId: round,
        offerId: 2,
        profileId: 0,
        start: start + 3600,
        duration: 3600,
        pricePerHour: parseCredits("3"),
        replacesLease: 0,
      },
      parseCredits("10"),
    );
    await send(as(buyer).market.commitBid(bid.commitment, bid.deposit, round));
    const [opensAt, closesAt] = await c.market.revealWindow(round);
    await networkHelpers.time.increaseTo(opensAt);
    await send(as(buyer).market.revealBid(bid.terms, bid.salt, 0, ""));
    await networkHelpers.time.increaseTo(closesAt);
    await send(c.market.clearRound(round, 10));
    await networkHelpers.time.setNextBlockTimestamp(start);
    await send(as(agent).leases.reportProvisioned(1, "10.0.0.7"));
    await networkHelpers.time.increaseTo(start + 3600);
    await send(c.leases.settle(1));

    expect(await c.leases.leaseCount()).toBe(2n);
    const [available, escrowed] = await c.market.accountOf(buyerSigner.address);
    const paid = leaseCost(parseCredits("2"), 3600) + leaseCost(parseCredits("3"), 3600);
    expect([available, escrowed]).toEqual([parseCredits("100") - paid, leaseCost(parseCredits("3"), 3600)]);
    for (const hash of sent) {
      const tx = await ethers.provider.getTransaction(hash);
      expect([tx?.type, tx?.gasPrice]).toEqual([0, 0n]);
    }
    expect(await ethers.provider.getBalance(buyerSigner.address)).toBe(ethBefore);
    const block = await ethers.provider.getBlock("latest");
    expect(block?.baseFeePerGas).toBe(0n);
  });
});
