import type { JsonRpcProvider } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  ManagedSigner,
  MarketRevertError,
  MinedRevertError,
  chainClock,
  confirmed,
  createProvider,
  deployMarket,
  withGasHeadroom,
  type MarketContracts,
} from "../../sdk/index.js";
import { serveLocalChain } from "../../scripts/lib/local-chain.js";

describe("sending on a chain with its own pace", () => {
  let provider: JsonRpcProvider;
  let close: () => Promise<void>;
  let c: MarketContracts;
  let signer: ManagedSigner;

  beforeAll(async () => {
    const server = await serveLocalChain("127.0.0.1", 0, { hardfork: "berlin", blockGasLimit: 30_000_000n });
    const { port } = await server.listen();
    provider = createProvider(`http://127.0.0.1:${port}`);
    close = async () => {
      provider.destroy();
      await server.close();
    };
    signer = new ManagedSigner(await provider.getSigner(0));
    ({ contracts: c } = await deployMarket(signer));
  });
  afterAll(() => close());

  /** Sends `send()` without mining it, then mines one block: the transaction fails only when mined. */
  async function minedInNextBlock<T>(send: () => Promise<T>): Promise<T> {
    await provider.send("evm_setAutomine", [false]);
    try {
      const sent = await send();
      await provider.send("evm_mine", []);
      return sent;
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  }

  it("pads every estimate, and never asks for more than a block holds", async () => {
    const estimate = await c.market.createTenant.estimateGas("Padded Ltd");
    const response = await c.market.createTenant("Padded Ltd");
    expect(response.gasLimit).toBe(withGasHeadroom(estimate, 30_000_000n));
    expect(response.gasLimit).toBeGreaterThan(estimate + estimate / 5n);
    expect(withGasHeadroom(29_000_000n, 30_000_000n)).toBe(30_000_000n);
    await confirmed(response);
  });

  it("tells a transaction that ran out of gas when mined (worth sending again) from one the contract refused", async () => {
    const starved = await minedInNextBlock(() => c.market.createTenant("Starved Ltd", { gasLimit: 30_000n }));
    const outOfGas = await confirmed(starved).catch((error: unknown) => error);
    expect(outOfGas).toBeInstanceOf(MinedRevertError);
    expect(outOfGas).toMatchObject({ outOfGas: true, txHash: starved.hash });

    // Sent without an estimate, a call the contract refuses is named by replaying it on its block.
    const refused = await minedInNextBlock(() => c.market.createTenant("", { gasLimit: 200_000n }));
    const final = await confirmed(refused).catch((error: unknown) => error);
    expect(final).toBeInstanceOf(MarketRevertError);
    expect((final as MarketRevertError).revert.name).toBe("EmptyName");
  });

  it("reads the chain's clock: the head, the block period and the earliest time of the next block", async () => {
    const head = (await provider.getBlock("latest"))?.timestamp ?? 0;
    const configured = await chainClock(provider, 2)();
    expect(configured).toMatchObject({ head, blockSeconds: 2 });
    expect(configured.next).toBe(Math.max(head + 2, Math.floor(Date.now() / 1000)));

    // Without a configured period, it is measured from the spacing of recent blocks.
    for (let i = 0; i < 16; i += 1) {
      await provider.send("evm_increaseTime", [5]);
      await provider.send("evm_mine", []);
    }
    const measured = await chainClock(provider)();
    expect(measured.blockSeconds).toBe(5);
    expect(measured.next).toBeGreaterThanOrEqual(measured.head + 5);
  });
});
